import type { FastifyInstance, FastifyRequest } from "fastify";
import type { AppContext, ElementDefine } from "../element/types.ts";
import type { ErrorTable } from "../errors/codes.ts";

/**
 * What an element family brings to the runtime beside its elements, declared in a module
 * `family.ts` (or .mts/.js/.mjs) next to the family's Meta `e.json`. The loader imports it
 * when an app sees that Meta; the runtime itself names no family (ARCHITECTURE.md, "What a
 * family brings").
 */
export interface FamilyDefinition {
  /** The family's error codes; merged into the app's table, a code two owners define stops the load. */
  errors?: ErrorTable;
  /** Which values are secret: redacted from every log line, masked wherever config is shown. */
  secrets?: FamilySecrets;
  /**
   * Turns a bearer token into the caller, for every function that needs a login. null: this
   * family does not know the token (the next family is asked; none knowing it is
   * TOKEN_INVALID). Runs inside the request's call context (with its `token`).
   */
  sessionLookup?: (token: string, app: AppContext) => Promise<SessionCaller | null>;
  /**
   * Per-key limits the family's elements apply through the call context
   * (`currentCallContext()?.limit?.(name, key)`), counted by the HTTP layer like its own
   * limits (shared across processes when the server's rate store is).
   */
  limits?: Readonly<Record<string, KeyedLimit>>;
  /** What the family adds to the browser console (`jit serve --console`). */
  console?: FamilyConsole;
  /**
   * What a JSON Schema cannot say about an instance's e.json (e.g. "exactly one primary
   * key"), checked when the app loads: each `{ pointer, reason }` becomes a SCHEMA_INVALID
   * problem with the instance's file, beside the schema's own.
   */
  checkDeclaration?: (fullName: string, declared: Readonly<Record<string, unknown>>) => Array<{ pointer: string; reason: string }>;
  /**
   * Start-up work before a server answers (bringing the family's tables up to date, say);
   * a rejection stops the start with its error.
   */
  prepare?: (app: AppContext) => Promise<void>;
}

/**
 * A family's part of the console. Its routes sit behind the console's admin token and
 * loopback check; its browser tabs are a module `console/ui/index.ts` in the Meta's folder,
 * bundled with the console's shell (ARCHITECTURE.md, "What a family brings").
 */
export interface FamilyConsole {
  /** Fields the family adds to GET /console/api/overview (which its tabs read). */
  overview?: (app: AppContext, kit: ConsoleKit) => Record<string, unknown>;
  /** Registers the family's routes under /console/api/. */
  routes?: (server: FastifyInstance, app: AppContext, kit: ConsoleKit) => void;
}

/** What the console hands a family's routes. */
export interface ConsoleKit {
  /** The environment the app runs with (the app's own first). */
  env: Readonly<Record<string, string | undefined>>;
  now(): number;
  /** The URL path of an element's functions. */
  elementPath(fullName: string): string;
  /** The instances served over HTTP. */
  servedElements(): ElementDefine[];
  /** One log line per admin action, with the request id (never the admin token). */
  adminLog(request: FastifyRequest, action: string, fields: Record<string, unknown>): void;
}

export interface FamilySecrets {
  /** Field names redacted at the top of a log object and one level down (`name`, `*.name`). */
  fields?: readonly string[];
  /** Function argument names redacted in logged arguments and request bodies (`args.name`, `body.name`). */
  args?: readonly string[];
  /** Further pino redact paths, for secrets deeper in an object. */
  paths?: readonly string[];
}

/** Who is calling, as a session lookup answers; element code reads it from the call context. */
export interface SessionCaller {
  userId: number;
  corpId: string | null;
}

export interface KeyedLimit {
  /** The environment variable that sets it ("<count>/<unit>" or "off"). */
  env: string;
  /** Its rate when the variable is unset, e.g. "20/minute". */
  default: string;
  /** What one key is, for the documentation and the log line when the limit fills up. */
  description: string;
}

/** A family as the loader found it. */
export interface LoadedFamily {
  /** The namespace of its Meta (`shop.orders` for `shop.orders.Meta`). */
  name: string;
  /** The fullName of its Meta. */
  meta: string;
  /** The family module's file. */
  file: string;
  definition: FamilyDefinition;
}

/** Typed identity: `export default defineFamily({ ... })` in a family module. */
export function defineFamily(definition: FamilyDefinition): FamilyDefinition {
  return definition;
}

/** True when an element with this chain belongs to the family (its fullName or a link is in the family's namespace). */
export function inFamily(family: Pick<LoadedFamily, "name">, chain: ReadonlyArray<{ fullName: string }>): boolean {
  const prefix = `${family.name}.`;
  return chain.some((link) => link.fullName.startsWith(prefix));
}
