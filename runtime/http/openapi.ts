import type { ElementDefine, FunctionDecl } from "../element/types.ts";
import { ERROR_CODES, type ErrorCode, type ErrorFamily } from "../errors/codes.ts";
import { elementPath, rateLimitsOf, servedElements, servedFunctions } from "./routes.ts";
import { bodySchema } from "./schema.ts";
import type { ServedApp } from "./types.ts";

/**
 * The OpenAPI 3.1 document of an app's HTTP API, built from the same declarations the routes
 * are built from: the paths from servedElements/elementPath, each request body from
 * bodySchema (the schema the route validates with), the error codes from the one registry.
 * Nothing is written by hand per function, so the document cannot drift from the server.
 */

type Json = Record<string, unknown>;

/** Codes any function can answer (the server's own), by when they apply. */
const ALWAYS: ErrorCode[] = ["API_PARAMS_ERROR", "BODY_MALFORMED", "BODY_TOO_LARGE", "INTERNAL_ERROR", "SERVER_CLOSING"];
const WITH_LOGIN: ErrorCode[] = ["LOGIN_REQUIRED", "TOKEN_INVALID"];
const WITH_USER_ID: ErrorCode[] = ["FORBIDDEN"];
const WITH_LIMIT: ErrorCode[] = ["RATE_LIMITED"];
/** Elements of the login family answer the login, WeChat and vault codes. */
const LOGIN_FAMILIES: ErrorFamily[] = ["login", "wechat", "vault"];
const LOGIN_ROOT = "auths.loginTypes.";
const WECHAT_TYPE = "auths.loginTypes.WeChatMiniType";
const PASSWORD_TYPE = "auths.loginTypes.PasswordType";
/** Login codes only one login Type answers; the wechat and vault families are WeChatMiniType's too. */
const TYPE_ONLY: Partial<Record<ErrorCode, string>> = {
  USER_AUTH_MISS: WECHAT_TYPE,
  BIND_CODE_INVALID: WECHAT_TYPE,
  BIND_CODE_EXPIRED: WECHAT_TYPE,
  ALREADY_BOUND: WECHAT_TYPE,
  WECHAT_ALREADY_BOUND: WECHAT_TYPE,
  NOT_BOUND: WECHAT_TYPE,
  REGISTRATION_CLOSED: PASSWORD_TYPE,
  USERNAME_TAKEN: PASSWORD_TYPE,
  PASSWORD_TOO_WEAK: PASSWORD_TYPE,
  CREDENTIALS_INVALID: PASSWORD_TYPE,
  LOGIN_LOCKED: PASSWORD_TYPE,
  PASSWORD_ALREADY_SET: PASSWORD_TYPE,
  PASSWORD_NOT_SET: PASSWORD_TYPE,
};

/** The login Type whose codes `code` belongs to, or undefined for codes every login element may answer. */
function ownerType(code: ErrorCode): string | undefined {
  const family = ERROR_CODES[code].family;
  return family === "wechat" || family === "vault" ? WECHAT_TYPE : TYPE_ONLY[code];
}

/** The error codes a function may answer over HTTP. */
export function errorCodesOf(define: ElementDefine, decl: FunctionDecl): ErrorCode[] {
  const codes = new Set<ErrorCode>(ALWAYS);
  if (decl.loginRequired !== 0) WITH_LOGIN.forEach((c) => codes.add(c));
  if (decl.args?.some((a) => a.name === "userId")) WITH_USER_ID.forEach((c) => codes.add(c));
  if (rateLimitsOf(decl).size > 0) WITH_LIMIT.forEach((c) => codes.add(c));
  if (define.chain.some((link) => link.fullName.startsWith(LOGIN_ROOT))) {
    const inChain = new Set(define.chain.map((link) => link.fullName));
    for (const [code, spec] of Object.entries(ERROR_CODES)) {
      if (!(LOGIN_FAMILIES as string[]).includes(spec.family)) continue;
      const owner = ownerType(code as ErrorCode);
      if (owner !== undefined && !inChain.has(owner)) continue;
      // A start-up code, and the session codes (added above only where a token is needed).
      if (code === "MASTER_KEY_INVALID" || code === "LOGIN_REQUIRED" || code === "TOKEN_INVALID") continue;
      codes.add(code as ErrorCode);
    }
  }
  return [...codes].sort();
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

function operation(appId: string, define: ElementDefine, decl: FunctionDecl): Json {
  const byStatus = new Map<number, ErrorCode[]>();
  for (const code of errorCodesOf(define, decl)) {
    const status = ERROR_CODES[code].status;
    byStatus.set(status, [...(byStatus.get(status) ?? []), code]);
  }
  const responses: Json = {
    "200": {
      description: "The function's result under `data` (null when it returns nothing).",
      content: { "application/json": { schema: { type: "object", properties: { data: {} }, required: ["data"], additionalProperties: false } } },
    },
  };
  for (const [status, codes] of [...byStatus].sort((a, b) => a[0] - b[0])) responses[String(status)] = errorResponse(codes);
  const args = decl.args ?? [];
  return {
    operationId: `${define.fullName}.${decl.name}`,
    summary: decl.title ?? decl.name,
    description: [
      `${define.fullName}.${decl.name}(${args.map((a) => `${a.name}: ${a.dataType}`).join(", ")})`,
      define.description ?? "",
      decl.loginRequired !== 0 ? "Needs `Authorization: Bearer <token>` (from loginByCode)." : "No login needed.",
    ]
      .filter(Boolean)
      .join("\n\n"),
    tags: [define.fullName],
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

export function buildOpenApi(app: ServedApp, info: { version?: string; serverUrl?: string } = {}): Json {
  const paths: Json = {};
  const tags: Json[] = [];
  for (const define of servedElements(app)) {
    tags.push({ name: define.fullName, description: define.title });
    // Functions declared "http": false have no route, so no path either.
    for (const decl of servedFunctions(define)) {
      paths[`${elementPath(app.appId, define.fullName)}/${decl.name}`] = { post: operation(app.appId, define, decl) };
    }
  }
  return {
    openapi: "3.1.0",
    info: {
      title: `jit-runtime app "${app.appId}"`,
      version: info.version ?? "0.0.0",
      description: "Every served element function, generated from its functionList declaration. Errors share one envelope: `{ error: { code, message, requestId } }`.",
    },
    ...(info.serverUrl ? { servers: [{ url: info.serverUrl }] } : {}),
    tags,
    paths,
    components: {
      securitySchemes: { bearer: { type: "http", scheme: "bearer", description: "The session token from loginByCode." } },
      schemas: {
        Error: {
          type: "object",
          required: ["error"],
          properties: {
            error: {
              type: "object",
              required: ["code", "message", "requestId"],
              properties: {
                code: { type: "string", enum: Object.keys(ERROR_CODES) },
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
