import type { Clock } from "../clock.ts";
import type { Logger } from "../logging/logger.ts";
import type { AppStore } from "../database/stores.ts";
import type { Database } from "../database/types.ts";

export type ElementKind = "meta" | "type" | "instance";
export type AccessModifier = "public" | "protected" | "private";

export interface FunctionArg {
  name: string;
  title?: string;
  /** JitAi data type: "Stext", "Numeric", "JitDict", ... (mapped to JSON Schema by the server). */
  dataType: string;
}

export interface FunctionDecl {
  name: string;
  title?: string;
  args: FunctionArg[];
  /** 1 (default): callers over HTTP need a session token. */
  loginRequired: 0 | 1;
  /**
   * Which of the server's rate limits apply over HTTP: "ip" (per client address), "user" (per
   * logged-in user; loginRequired 1 only). Default: ["ip"] when loginRequired is 0, else none.
   * A function that spends a shared quota (e.g. calls an upstream API) declares its limits here.
   */
  rateLimit?: RateLimitName[];
  /**
   * false: not served over HTTP at all; only trusted server code and `jit call` reach it
   * (e.g. functions that act on any user by id). Default true.
   */
  http?: boolean;
}

export type RateLimitName = "ip" | "user";

/** A link in a resolved chain or an overridden definition, for `jit show`. */
export interface DefinitionRef {
  fullName: string;
  layer: string; // "platform" or an appId
  file: string; // absolute path of the e.json
}

/**
 * The merged, resolved declaration of one element as the app sees it.
 * `getElementDefine` returns this without instantiating anything.
 */
export interface ElementDefine {
  fullName: string;
  kind: ElementKind;
  /** "" for a Meta. */
  type: string;
  title: string;
  description?: string;
  accessModifier: AccessModifier;
  /** "platform" or the appId of the layer whose definition won. */
  layer: string;
  /** Absolute path of the winning e.json and its folder. */
  file: string;
  dir: string;
  backendBundleEntry?: string;
  frontBundleEntry?: string;
  /** Effective functionList: the nearest declaration of each function name along the chain wins. */
  functionList: FunctionDecl[];
  /** The e.json as declared (after schema defaults). */
  declared: Record<string, unknown>;
  /** The resolved chain, this element first, its Meta last. */
  chain: DefinitionRef[];
  /** Definitions of the same fullName in lower layers that this one overrides, nearest first. */
  shadows: DefinitionRef[];
  /** Instances only: Type-chain defaults < e.json < business config file. */
  config: Record<string, unknown>;
}

/**
 * fullName → the element's type, for `app.getElement`. Empty here: the file `jit types`
 * writes adds the app's elements (`declare module "jit-runtime" { interface ElementTypes … }`),
 * so `app.getElement("models.OrderModel")` is typed without a type argument.
 */
export interface ElementTypes {}

/** What element code sees of the app it lives in. */
export interface AppContext {
  readonly appId: string;
  /** The folder holding `elements/` and `apps/`. */
  readonly root: string;
  /** Where the app keeps its files (database, generated master key): `<root>/.jit` by default. */
  readonly dataDir: string;
  readonly clock: Clock;
  readonly logger: Logger;
  readonly env: Readonly<Record<string, string | undefined>>;
  /** The app's store, opened on first use and shared by all its elements. */
  getStore(): Promise<AppStore>;
  /**
   * The handle on a database element's database (runtime/database/types.ts), opened once per
   * app; without a name, the app's default database (app.json `defaultDatabase`, else
   * databases.default).
   */
  getDatabase(fullName?: string): Promise<Database>;
  /**
   * The 32-byte master key that seals secrets at rest: JIT_MASTER_KEY (base64 or hex), else a
   * key generated once into `<dataDir>/master.key` (mode 0600) with a warning. Memoized.
   */
  getMasterKey(): Promise<Buffer>;
  /** Typed by fullName once `jit types` has written the app's ElementTypes. */
  getElement<K extends keyof ElementTypes>(fullName: K): ElementTypes[K];
  getElement<T = unknown>(fullName: string): T;
  getElementDefine(fullName: string): ElementDefine;
  findElements(query: { type: string }): ElementDefine[];
  /** Closes the store and anything else the app opened. Idempotent. */
  close(): Promise<void>;
}
