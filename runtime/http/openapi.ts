import type { ElementDefine, FunctionDecl } from "../element/types.ts";
import { RUNTIME_ERROR_CODES, type ErrorCode, type ErrorSpec } from "../errors/codes.ts";
import { inFamily } from "../family/types.ts";
import { elementPath, rateLimitsOf, servedElements, servedFunctions } from "./routes.ts";
import { bodySchema } from "./schema.ts";
import type { ServedApp } from "./types.ts";

/**
 * The OpenAPI 3.1 document of an app's HTTP API, built from the same declarations the routes
 * are built from: the paths from servedElements/elementPath, each request body from
 * bodySchema (the schema the route validates with), the error codes from the app's merged
 * table (the runtime's and its families'). Nothing is written by hand per function, so the
 * document cannot drift from the server.
 */

type Json = Record<string, unknown>;

/** Codes any function can answer (the server's own), by when they apply. */
const ALWAYS: ErrorCode[] = ["API_PARAMS_ERROR", "BODY_MALFORMED", "BODY_TOO_LARGE", "INTERNAL_ERROR", "SERVER_CLOSING"];
const WITH_LOGIN: ErrorCode[] = ["LOGIN_REQUIRED", "TOKEN_INVALID"];
const WITH_USER_ID: ErrorCode[] = ["FORBIDDEN"];
const WITH_LIMIT: ErrorCode[] = ["RATE_LIMITED"];

/** The app's codes: its families' beside the runtime's (the runtime's alone for an app without families). */
function specsOf(app: Pick<ServedApp, "families">): ReadonlyMap<ErrorCode, ErrorSpec> {
  const table = new Map<ErrorCode, ErrorSpec>(Object.entries(RUNTIME_ERROR_CODES));
  for (const [code, entry] of app.families?.errors ?? []) table.set(code, entry.spec);
  return table;
}

/**
 * The error codes a function may answer over HTTP: the server's own, and the codes of every
 * family the element belongs to, narrowed to those whose `answeredBy` Types are in its chain.
 */
export function errorCodesOf(define: ElementDefine, decl: FunctionDecl, app: Pick<ServedApp, "families"> = {}): ErrorCode[] {
  const codes = new Set<ErrorCode>(ALWAYS);
  if (decl.loginRequired !== 0) WITH_LOGIN.forEach((c) => codes.add(c));
  if (decl.args?.some((a) => a.name === "userId")) WITH_USER_ID.forEach((c) => codes.add(c));
  if (rateLimitsOf(decl).size > 0) WITH_LIMIT.forEach((c) => codes.add(c));
  const chain = [{ fullName: define.fullName }, ...define.chain];
  const inChain = new Set(chain.map((link) => link.fullName));
  for (const family of app.families?.list ?? []) {
    if (!inFamily(family, chain)) continue;
    for (const [code, spec] of Object.entries(family.definition.errors ?? {})) {
      if (spec.answeredBy && !spec.answeredBy.some((type) => inChain.has(type))) continue;
      codes.add(code);
    }
  }
  return [...codes].sort();
}

/** The codes an element declares its functions throw with ServiceError (`errorCodes` in its e.json). */
export function ownErrorCodesOf(define: ElementDefine): Array<{ code: string; status: number; message?: string }> {
  const declared = define.declared.errorCodes;
  if (declared === null || typeof declared !== "object") return [];
  return Object.entries(declared as Record<string, { status: number; message?: string }>)
    .map(([code, spec]) => ({ code, status: spec.status, ...(spec.message ? { message: spec.message } : {}) }))
    .sort((a, b) => (a.code < b.code ? -1 : 1));
}

function errorResponse(codes: ErrorCode[]): Json {
  return {
    description: codes.map((c) => `\`${c}\``).join(", "),
    content: {
      "application/json": {
        schema: {
          allOf: [{ $ref: "#/components/schemas/Error" }, { type: "object", properties: { error: { type: "object", properties: { code: { enum: codes } } } } }],
        },
      },
    },
  };
}

function operation(app: ServedApp, specs: ReadonlyMap<ErrorCode, ErrorSpec>, define: ElementDefine, decl: FunctionDecl, tag: string): Json {
  const appId = app.appId;
  const byStatus = new Map<number, ErrorCode[]>();
  const add = (code: ErrorCode, status: number) => byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  for (const code of errorCodesOf(define, decl, app)) add(code, specs.get(code)!.status);
  for (const { code, status } of ownErrorCodesOf(define)) add(code, status);
  const responses: Json = {
    "200": {
      description: "The function's result under `data` (null when it returns nothing).",
      content: { "application/json": { schema: { type: "object", properties: { data: {} }, required: ["data"], additionalProperties: false } } },
    },
  };
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) responses[String(status)] = errorResponse(codes);
  const args = decl.args ?? [];
  return {
    operationId: tag === define.fullName ? `${define.fullName}.${decl.name}` : `${appId}.${define.fullName}.${decl.name}`,
    summary: decl.title ?? decl.name,
    description: [
      `${define.fullName}.${decl.name}(${args.map((a) => `${a.name}: ${a.dataType}`).join(", ")})`,
      define.description ?? "",
      decl.loginRequired !== 0 ? "Needs `Authorization: Bearer <token>` (a session token)." : "No login needed.",
    ]
      .filter(Boolean)
      .join("\n\n"),
    tags: [tag],
    ...(decl.loginRequired !== 0 ? { security: [{ bearer: [] }] } : { security: [] }),
    requestBody: {
      // Optional on the wire: a function without required arguments may be called with no body.
      required: args.some((a) => (bodySchema(decl).required as string[]).includes(a.name)),
      content: { "application/json": { schema: bodySchema(decl) } },
    },
    responses,
    "x-jit-element": define.fullName,
    "x-jit-app": appId,
  };
}

/** The document of one app, or of several served together (each path under its own /api/<appId>/). */
export function buildOpenApi(served: ServedApp | readonly ServedApp[], info: { version?: string; serverUrl?: string } = {}): Json {
  const apps = Array.isArray(served) ? served : [served as ServedApp];
  const paths: Json = {};
  const tags: Json[] = [];
  const ownCodes = new Set<string>();
  for (const app of apps) {
    const specs = specsOf(app);
    for (const define of servedElements(app)) {
      for (const { code } of ownErrorCodesOf(define)) ownCodes.add(code);
      // With several apps, one element may be served by each: its tag names the app too.
      const tag = apps.length > 1 ? `${app.appId}: ${define.fullName}` : define.fullName;
      tags.push({ name: tag, description: define.title });
      // Functions declared "http": false have no route, so no path either.
      for (const decl of servedFunctions(define)) {
        paths[`${elementPath(app.appId, define.fullName)}/${decl.name}`] = { post: operation(app, specs, define, decl, tag) };
      }
    }
  }
  const ids = apps.map((app) => `"${app.appId}"`).join(", ");
  return {
    openapi: "3.1.0",
    info: {
      title: apps.length > 1 ? `jit-runtime apps ${ids}` : `jit-runtime app ${ids}`,
      version: info.version ?? "0.0.0",
      description: "Every served element function, generated from its functionList declaration. Errors share one envelope: `{ error: { code, message, requestId } }`.",
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    tags,
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "A session token." } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message", "requestId"],
              properties: {
                code: { type: "string", enum: [...[...new Set(apps.flatMap((app) => [...specsOf(app).keys()]))].filter((c) => c !== "SERVICE_ERROR"), ...[...ownCodes].sort()] },
                message: { type: "string" },
                requestId: { type: "string" },
              },
            },
          },
        },
      },
    },
  };
}
