/**
 * The one error registry. Every machine-readable error code the project can produce is
 * defined here exactly once, with its family, HTTP status and message template.
 * `test/errors.test.ts` pins the list and checks README documents every code (and back),
 * so a code is never renamed or reused by accident.
 *
 * Message templates use `{name}` placeholders filled from the error's params. Params are
 * never secrets: callers pass names, paths and ids, not codes, keys or tokens. Params that
 * may hold what a client sent are listed in `input`: they are quoted (escaped and cut to
 * about 100 characters, see quote.ts) wherever the message is made, so no caller can forget.
 */

export type ErrorFamily =
  | "declaration" // element declarations, apps, Type code
  | "element" // looking up and calling elements
  | "login" // the login flow
  | "wechat" // the WeChat server API
  | "vault" // session keys and encrypted user data
  | "store" // the database
  | "http" // the HTTP API
  | "cli" // the command line
  | "config"; // environment and start-up configuration

export interface ErrorSpec {
  family: ErrorFamily;
  status: number;
  message: string;
  /** Params that may carry client input (quoted into the message, see quote.ts). */
  input?: readonly string[];
}

export const ERROR_CODES = {
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

  // --- element lookup and calls ---
  ELEMENT_NOT_FOUND: { family: "element", status: 404, message: "element \"{fullName}\" not found{suggestion}", input: ["fullName"] },
  FUNCTION_NOT_FOUND: { family: "element", status: 404, message: "{fullName} has no callable function \"{function}\"", input: ["fullName", "function"] },
  ARGUMENT_INVALID: { family: "element", status: 400, message: "argument {argument} of {function}: {reason}" },

  // --- login flow ---
  LOGIN_TYPE_INACTIVE: { family: "login", status: 403, message: "login type {fullName} is not active" },
  USER_AUTH_MISS: { family: "login", status: 403, message: "this WeChat user is not registered and {fullName} does not allow registration" },
  BIND_CODE_INVALID: { family: "login", status: 400, message: "bind code is unknown or already used" },
  BIND_CODE_EXPIRED: { family: "login", status: 400, message: "bind code has expired; log in again to get a new one" },
  LOGIN_CODE_INVALID: { family: "login", status: 400, message: "login code is unknown or already used" },
  LOGIN_CODE_EXPIRED: { family: "login", status: 400, message: "login code has expired; log in again to get a new one" },
  USER_NOT_FOUND: { family: "login", status: 404, message: "user {userId} does not exist" },
  ALREADY_BOUND: { family: "login", status: 409, message: "user {userId} is already bound to a WeChat identity in mini program {appId}" },
  WECHAT_ALREADY_BOUND: { family: "login", status: 409, message: "this WeChat identity is already bound to another user in mini program {appId}" },
  NOT_BOUND: { family: "login", status: 409, message: "user {userId} is not bound in mini program {appId}" },
  CORP_NOT_MEMBER: { family: "login", status: 403, message: "user is not a member of organisation \"{corpId}\"", input: ["corpId"] },
  LOGIN_REQUIRED: { family: "login", status: 401, message: "this function needs a logged-in user: send Authorization: Bearer <token>" },
  TOKEN_INVALID: { family: "login", status: 401, message: "the session token is unknown, expired or logged out" },
  FORBIDDEN: { family: "login", status: 403, message: "{reason}" },
  REGISTRATION_CLOSED: { family: "login", status: 403, message: "{fullName} does not allow registration" },
  USERNAME_TAKEN: { family: "login", status: 409, message: "this username is already taken in app {appId}" },
  PASSWORD_TOO_WEAK: { family: "login", status: 400, message: "the password is not accepted: {reason}" },
  CREDENTIALS_INVALID: { family: "login", status: 401, message: "username or password is wrong" },
  LOGIN_LOCKED: { family: "login", status: 429, message: "too many failed logins; retry after {retryAfter} s" },
  PASSWORD_ALREADY_SET: { family: "login", status: 409, message: "user {userId} already has a password login in {fullName}" },
  PASSWORD_NOT_SET: { family: "login", status: 409, message: "user {userId} has no password login in {fullName}" },
  PHONE_TAKEN: { family: "login", status: 409, message: "this phone number is already on another user; log in as that user (accounts are never merged silently)" },

  // --- WeChat server API ---
  WECHAT_CODE_INVALID: { family: "wechat", status: 400, message: "WeChat rejected the login code as invalid (errcode {errcode}){rid}" },
  WECHAT_CODE_USED: { family: "wechat", status: 400, message: "the wx.login code was already used; call wx.login again (errcode {errcode}){rid}" },
  WECHAT_RATE_LIMITED: { family: "wechat", status: 429, message: "WeChat rate limit reached (errcode {errcode}){rid}" },
  WECHAT_USER_BLOCKED: { family: "wechat", status: 403, message: "WeChat blocked this high-risk user (errcode {errcode}){rid}" },
  WECHAT_BUSY: { family: "wechat", status: 503, message: "WeChat is busy, try again (errcode {errcode}){rid}" },
  WECHAT_BAD_CREDENTIALS: { family: "wechat", status: 502, message: "WeChat rejected the mini program's AppID or AppSecret (errcode {errcode}){rid}" },
  WECHAT_UNAVAILABLE: { family: "wechat", status: 503, message: "WeChat could not be reached or gave an unreadable answer: {reason}" },
  WECHAT_ERROR: { family: "wechat", status: 502, message: "WeChat answered with errcode {errcode}{rid}" },
  WECHAT_TOKEN_REJECTED: { family: "wechat", status: 502, message: "WeChat rejected the mini program's access token (errcode {errcode}){reason}{rid}" },
  WECHAT_PHONE_CODE_INVALID: { family: "wechat", status: 400, message: "the phone-number code is invalid, expired or already used; ask again with the phone button (errcode {errcode}){rid}" },
  WECHAT_PHONE_FOREIGN: { family: "wechat", status: 502, message: "WeChat's phone number answer names another mini program (watermark appid differs); nothing was stored" },
  WECHAT_SESSION_KEY_STALE: { family: "wechat", status: 409, message: "WeChat says the stored session key of user {userId} is stale; the client must wx.login again (errcode {errcode}){rid}" },

  // --- session key vault and encrypted user data ---
  MASTER_KEY_INVALID: { family: "vault", status: 500, message: "{source} must be 32 bytes in base64 or hex: {reason}" },
  SESSION_KEY_MISSING: { family: "vault", status: 409, message: "no WeChat session key is stored for user {userId}; the client must wx.login again" },
  SESSION_KEY_STALE: { family: "vault", status: 409, message: "the data was not encrypted with the stored session key (stale key); the client must wx.login again and resend" },
  ENCRYPTED_DATA_MALFORMED: { family: "vault", status: 400, message: "{field} is malformed: {reason}" },
  WATERMARK_MISMATCH: { family: "vault", status: 400, message: "decrypted data belongs to another mini program (watermark appid differs)" },
  SIGNATURE_INVALID: { family: "vault", status: 400, message: "rawData signature does not match" },
  VAULT_SEAL_INVALID: { family: "vault", status: 500, message: "stored session key for mini program {appId} cannot be opened (tampered or sealed with another master key)" },

  // --- store ---
  // {file} names the database: the SQLite file, or host:port/database for a server (never
  // its URL, which may carry a password).
  STORE_OPEN_FAILED: { family: "store", status: 500, message: "cannot open database {file}: {reason}" },
  STORE_MIGRATION_FAILED: { family: "store", status: 500, message: "database {file}: migration {version} failed: {reason}" },
  STORE_WRITER_FAILED: { family: "store", status: 500, message: "database {file}: the writer thread stopped: {reason}" },
  STORE_CLOSED: { family: "store", status: 500, message: "database {file} is closed" },
  // 503: the database went away (or is over its timeouts); the same request may succeed in a
  // moment, and the server recovers without a restart when the database is back.
  STORE_UNAVAILABLE: { family: "store", status: 503, message: "database {file} does not answer: {reason}" },

  // --- HTTP API ---
  API_PARAMS_ERROR: { family: "http", status: 400, message: "{reason}" },
  BODY_MALFORMED: { family: "http", status: 400, message: "request body is not valid JSON" },
  BODY_TOO_LARGE: { family: "http", status: 413, message: "request body exceeds {limit} bytes" },
  RATE_LIMITED: { family: "http", status: 429, message: "too many requests; retry after {retryAfter} s" },
  ROUTE_NOT_FOUND: { family: "http", status: 404, message: "no route {method} {url}", input: ["method", "url"] },
  INTERNAL_ERROR: { family: "http", status: 500, message: "internal error (request {requestId})" },
  SERVER_CLOSING: { family: "http", status: 503, message: "the server is shutting down; retry in a moment" },
  ADMIN_TOKEN_INVALID: { family: "http", status: 401, message: "the console needs the admin token: send Authorization: Bearer <admin token> (JIT_ADMIN_TOKEN, or the one printed at start-up)" },
  CONSOLE_FORBIDDEN: { family: "http", status: 403, message: "the console answers only on loopback; start with --console-remote to serve it to {ip}" },

  // --- CLI and configuration ---
  USAGE_ERROR: { family: "cli", status: 400, message: "{reason}" },
  APP_AMBIGUOUS: { family: "cli", status: 400, message: "several apps under {root}, choose one with --app: {apps}" },
  INIT_FILE_EXISTS: { family: "cli", status: 400, message: "jit init writes no file that exists, and {file} does: remove it or choose another app id" },
  CONFIG_INVALID: { family: "config", status: 500, message: "{source}: {reason}" },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERROR_CODES;

export function isErrorCode(value: unknown): value is ErrorCode {
  return typeof value === "string" && Object.prototype.hasOwnProperty.call(ERROR_CODES, value);
}
