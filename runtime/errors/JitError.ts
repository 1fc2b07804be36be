import { ERROR_CODES, type ErrorCode, type ErrorFamily, type ErrorSpec } from "./codes.ts";
import { escapeControls, quoteInput } from "./quote.ts";

/** Values allowed in error params: names, paths, ids, numbers. Never secrets. */
export type ErrorParams = Record<string, string | number | boolean | null | undefined>;

/** One problem inside an aggregate error (e.g. DECLARATION_INVALID lists every problem). */
export interface Problem {
  code: ErrorCode;
  message: string;
  file?: string;
  pointer?: string;
}

/**
 * Fills a code's template. Every value has its control characters escaped (a message is a
 * log line too); the params that may carry client input are also cut (quote.ts).
 */
function format(spec: ErrorSpec, params: ErrorParams): string {
  return spec.message.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === null) return "";
    return spec.input?.includes(name) ? quoteInput(value) : escapeControls(String(value));
  });
}

/**
 * The base of every error the project raises on purpose. `code` is stable and
 * machine-readable; `message` is for humans; `toJSON` holds only safe fields, so a logger
 * that serialises the error cannot copy anything else (e.g. a request URL with a secret).
 */
export class JitError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly family: ErrorFamily;
  readonly params: ErrorParams;
  readonly problems: readonly Problem[];

  constructor(code: ErrorCode, params: ErrorParams = {}, options: { problems?: Problem[]; message?: string } = {}) {
    const spec = ERROR_CODES[code];
    super(options.message ?? format(spec, params));
    this.name = new.target.name;
    this.code = code;
    this.status = spec.status;
    this.family = spec.family;
    this.params = params;
    this.problems = options.problems ?? [];
  }

  toJSON(): { code: ErrorCode; message: string; problems?: Problem[] } {
    return this.problems.length > 0
      ? { code: this.code, message: this.message, problems: [...this.problems] }
      : { code: this.code, message: this.message };
  }
}

/** Builds a problem record with the registry's message for that code. */
export function problem(code: ErrorCode, params: ErrorParams, where: { file?: string; pointer?: string } = {}): Problem {
  return { code, message: format(ERROR_CODES[code], params), ...where };
}

// One class per family. Each checks that its codes belong to it, so a code is never
// raised under the wrong family by accident.
function familyClass(family: ErrorFamily, name: string) {
  const cls = class extends JitError {
    constructor(code: ErrorCode, params: ErrorParams = {}, options: { problems?: Problem[]; message?: string } = {}) {
      if (ERROR_CODES[code].family !== family) {
        throw new TypeError(`${name} cannot carry ${code} (family ${ERROR_CODES[code].family})`);
      }
      super(code, params, options);
    }
  };
  Object.defineProperty(cls, "name", { value: name });
  return cls;
}

export const DeclarationError = familyClass("declaration", "DeclarationError");
export const ElementError = familyClass("element", "ElementError");
export const LoginError = familyClass("login", "LoginError");
export const VaultError = familyClass("vault", "VaultError");
export const StoreError = familyClass("store", "StoreError");
export const HttpError = familyClass("http", "HttpError");
export const CliError = familyClass("cli", "CliError");
export const ConfigError = familyClass("config", "ConfigError");

/**
 * WeChat failures come through three channels (style.md §2), each its own class:
 * - WeChatRequestError: no answer at all (timeout, refused, reset) → WECHAT_UNAVAILABLE
 * - WeChatApiError: WeChat answered with an errcode (in an HTTP 200 body)
 * - WeChatResponseError: an answer that is not the expected shape (5xx, non-JSON)
 */
export class WeChatError extends JitError {
  readonly errcode: number | undefined;
  readonly rid: string | undefined;
  constructor(code: ErrorCode, params: ErrorParams & { errcode?: number; rid?: string } = {}) {
    if (ERROR_CODES[code].family !== "wechat") throw new TypeError(`WeChatError cannot carry ${code}`);
    super(code, { ...params, rid: params.rid ? ` (rid: ${params.rid})` : "" });
    this.errcode = params.errcode;
    this.rid = params.rid;
  }
  override toJSON() {
    return { ...super.toJSON(), ...(this.errcode !== undefined ? { errcode: this.errcode } : {}), ...(this.rid ? { rid: this.rid } : {}) };
  }
}
export class WeChatRequestError extends WeChatError {}
export class WeChatApiError extends WeChatError {}
export class WeChatResponseError extends WeChatError {}

/**
 * A brand shared by every copy of this module (Symbol.for is process-wide): an app's code may
 * load the package from another folder than the CLI's, and `instanceof` fails across copies.
 */
const JIT_ERROR = Symbol.for("jit-runtime.error");
Object.defineProperty(JitError.prototype, JIT_ERROR, { value: true });

/** True for any JitError, including one made by another copy of the runtime. */
export function isJitError(err: unknown): err is JitError {
  return typeof err === "object" && err !== null && (err as Record<symbol, unknown>)[JIT_ERROR] === true;
}
