/**
 * The runtime's own error codes: elements, declarations, sessions, the database, HTTP, the
 * CLI and configuration. A family defines its codes beside its elements and hands them to
 * the loader in its family module (ARCHITECTURE.md, "What a family brings"); the loader
 * merges every table into the one an app answers with (`mergeErrorTables`), and refuses a
 * code that two owners define. `test/errors.test.ts` checks the documented table against
 * the merged one, both ways, so a code is never renamed or reused by accident.
 *
 * Message templates use `{name}` placeholders filled from the error's params. Params are
 * never secrets: callers pass names, paths and ids, not codes, keys or tokens. Params that
 * may hold what a client sent are listed in `input`: they are quoted (escaped and cut to
 * about 100 characters, see quote.ts) wherever the message is made, so no caller can forget.
 */

/** The error class a code belongs to ("declaration", "store", a family's own, ...). */
export type ErrorFamily = string;

export interface ErrorSpec {
  family: ErrorFamily;
  status: number;
  message: string;
  /** Params that may carry client input (quoted into the message, see quote.ts). */
  input?: readonly string[];
  /**
   * Seconds a client should wait before retrying (sent as Retry-After); an error whose
   * `retryAfter` param is a number sends that instead.
   */
  retryAfter?: number;
  /**
   * For OpenAPI: the Types (fullNames) whose elements answer this code. Unset: every element
   * of the family that owns the code.
   */
  answeredBy?: readonly string[];
}

/** Codes by name. */
export type ErrorTable = Readonly<Record<string, ErrorSpec>>;

export const RUNTIME_ERROR_CODES = {
  // --- declarations (jit validate, loadApp) ---
  DECLARATION_INVALID: { family: "declaration", status: 500, message: "{count} problem(s) in element declarations" },
  JSON_MALFORMED: { family: "declaration", status: 500, message: "{file}: malformed JSON at line {line}, column {column}: {reason}" },
  SCHEMA_INVALID: { family: "declaration", status: 500, message: "{file}{pointer}: {reason}" },
  TYPE_NOT_FOUND: { family: "declaration", status: 500, message: "{file}: type \"{type}\" of {fullName} is not an element this app can see" },
  TYPE_CYCLE: { family: "declaration", status: 500, message: "{file}: type chain of {fullName} loops: {chain}" },
  META_AS_INSTANCE_TYPE: { family: "declaration", status: 500, message: "{file}: instance {fullName} names the Meta {type} as its type; an instance's type must be a Type" },
  INSTANCE_AS_TYPE: { family: "declaration", status: 500, message: "{file}: {fullName} names the instance {type} ({typeFile}) as its type; only a Meta or Type can be a type{hint}" },
  DUPLICATE_ELEMENT: { family: "declaration", status: 500, message: "{fullName} is declared twice in layer {layer}: {file} and {otherFile}" },
  OVERRIDE_PROTECTED: { family: "declaration", status: 500, message: "{file}: {fullName} overrides a protected element of layer {layer} ({otherFile})" },
  OVERRIDE_TYPE_CHANGED: { family: "declaration", status: 500, message: "{file}: override of {fullName} declares type \"{type}\" but the definition it overrides ({otherFile}) has type \"{otherType}\"; an override keeps its type, declare a new element to change it" },
  FILE_UNREADABLE: { family: "declaration", status: 500, message: "{file}: cannot be read: {reason}" },
  CONFIG_FILE_MISSING: { family: "declaration", status: 500, message: "{file}: frontBundleEntry \"{entry}\" does not exist" },
  MODULE_LOAD_FAILED: { family: "declaration", status: 500, message: "{file}: cannot load the code of {fullName}: {reason}" },
  APP_NOT_FOUND: { family: "declaration", status: 404, message: "app \"{appId}\" not found under {root}", input: ["appId"] },
  APPS_FOLDER_MISSING: { family: "declaration", status: 500, message: "{root} has no apps/ folder: an app is apps/<appId>/app.json below the root (jit init <appId> creates one), or pass --root" },
  APP_INVALID: { family: "declaration", status: 500, message: "{file}{pointer}: {reason}" },
  APP_EXTENDS_CYCLE: { family: "declaration", status: 500, message: "app extends loop: {chain}" },
  APP_EXTENDS_INCONSISTENT: { family: "declaration", status: 500, message: "app {appId}: no consistent order for extends ({reason})" },
  FAMILY_INVALID: { family: "declaration", status: 500, message: "{file}: family module of {fullName}: {reason}" },
  ERROR_CODE_DUPLICATE: { family: "declaration", status: 500, message: "error code {code} is defined twice: by {owner} ({file}) and by {otherOwner} ({otherFile})" },

  // --- element lookup and calls ---
  ELEMENT_NOT_FOUND: { family: "element", status: 404, message: "element \"{fullName}\" not found{suggestion}", input: ["fullName"] },
  FUNCTION_NOT_FOUND: { family: "element", status: 404, message: "{fullName} has no callable function \"{function}\"", input: ["fullName", "function"] },
  ARGUMENT_INVALID: { family: "element", status: 400, message: "argument {argument} of {function}: {reason}" },

  // --- sessions: who is calling (a family looks the token up, see ARCHITECTURE.md) ---
  LOGIN_REQUIRED: { family: "session", status: 401, message: "this function needs a logged-in user: send Authorization: Bearer <token>" },
  TOKEN_INVALID: { family: "session", status: 401, message: "the session token is unknown, expired or logged out" },
  FORBIDDEN: { family: "session", status: 403, message: "{reason}" },

  // --- store ---
  // {file} names the database: the SQLite file, or host:port/database for a server (never
  // its URL, which may carry credentials).
  STORE_OPEN_FAILED: { family: "store", status: 500, message: "cannot open database {file}: {reason}" },
  STORE_MIGRATION_FAILED: { family: "store", status: 500, message: "database {file}: migration {version} failed: {reason}" },
  STORE_WRITER_FAILED: { family: "store", status: 500, message: "database {file}: the writer thread stopped: {reason}" },
  STORE_CLOSED: { family: "store", status: 500, message: "database {file} is closed" },
  // 503: the database went away (or is over its timeouts); the same request may succeed in a
  // moment, and the server recovers without a restart when the database is back.
  STORE_UNAVAILABLE: { family: "store", status: 503, message: "database {file} does not answer: {reason}", retryAfter: 5 },

  // --- HTTP API ---
  API_PARAMS_ERROR: { family: "http", status: 400, message: "{reason}" },
  BODY_MALFORMED: { family: "http", status: 400, message: "request body is not valid JSON" },
  BODY_TOO_LARGE: { family: "http", status: 413, message: "request body exceeds {limit} bytes" },
  RATE_LIMITED: { family: "http", status: 429, message: "too many requests; retry after {retryAfter} s" },
  ROUTE_NOT_FOUND: { family: "http", status: 404, message: "no route {method} {url}", input: ["method", "url"] },
  INTERNAL_ERROR: { family: "http", status: 500, message: "internal error (request {requestId})" },
  // A closing server is replaced by a new one within seconds.
  SERVER_CLOSING: { family: "http", status: 503, message: "the server is shutting down; retry in a moment", retryAfter: 5 },
  ADMIN_TOKEN_INVALID: { family: "http", status: 401, message: "the console needs the admin token: send Authorization: Bearer <admin token> (JIT_ADMIN_TOKEN, or the one printed at start-up)" },
  CONSOLE_FORBIDDEN: { family: "http", status: 403, message: "the console answers only on loopback; start with --console-remote to serve it to {ip}" },

  // --- element functions' own codes ---
  // The family of ServiceError, whose instances carry the function's own code and status.
  SERVICE_ERROR: { family: "service", status: 400, message: "the function refused the call" },

  // --- CLI and configuration ---
  USAGE_ERROR: { family: "cli", status: 400, message: "{reason}" },
  APP_AMBIGUOUS: { family: "cli", status: 400, message: "several apps under {root}, choose one with --app: {apps}" },
  INIT_FILE_EXISTS: { family: "cli", status: 400, message: "jit init writes no file that exists, and {file} does: remove it or choose another app id" },
  CONFIG_INVALID: { family: "config", status: 500, message: "{source}: {reason}" },
  MASTER_KEY_INVALID: { family: "config", status: 500, message: "{source} must be 32 bytes in base64 or hex: {reason}" },
} as const satisfies Record<string, ErrorSpec>;

/** A code of the runtime's own table. */
export type RuntimeErrorCode = keyof typeof RUNTIME_ERROR_CODES;

/** Any registered code: the runtime's or a family's. */
export type ErrorCode = string;

/** One owner's codes, as the loader merges them: the runtime's, or a family's. */
export interface ErrorTableSource {
  /** "jit-runtime", or the family (e.g. the namespace of its Meta). */
  owner: string;
  /** Where the table is defined, for the duplicate error. */
  file: string;
  codes: ErrorTable;
}

export interface MergedErrorCode {
  spec: ErrorSpec;
  owner: string;
  file: string;
}

export const RUNTIME_ERRORS: ErrorTableSource = { owner: "jit-runtime", file: "runtime/errors/codes.ts", codes: RUNTIME_ERROR_CODES };

/**
 * One table from several owners. A code two owners define is refused, never overridden: a
 * client could no longer tell which failure it got. Returns the table and one duplicate
 * record per clash (the caller turns them into problems or throws).
 */
export function mergeErrorTables(sources: readonly ErrorTableSource[]): {
  table: ReadonlyMap<ErrorCode, MergedErrorCode>;
  clashes: Array<{ code: string; first: MergedErrorCode; second: MergedErrorCode }>;
} {
  const table = new Map<ErrorCode, MergedErrorCode>();
  const clashes: Array<{ code: string; first: MergedErrorCode; second: MergedErrorCode }> = [];
  for (const source of sources) {
    for (const [code, spec] of Object.entries(source.codes)) {
      const entry = { spec, owner: source.owner, file: source.file };
      const first = table.get(code);
      if (first) clashes.push({ code, first, second: entry });
      else table.set(code, entry);
    }
  }
  return { table, clashes };
}

export function isRuntimeErrorCode(value: unknown): value is RuntimeErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(RUNTIME_ERROR_CODES, value);
}
