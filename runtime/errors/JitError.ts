import { RUNTIME_ERROR_CODES, type ErrorCode, type ErrorFamily, type ErrorSpec, type ErrorTable, type RuntimeErrorCode } from "./codes.ts";
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

export interface JitErrorOptions {
  problems?: Problem[];
  message?: string;
}

/**
 * Fills a code's template. Every value has its control characters escaped (a message is a
 * log line too); the params that may carry client input are also cut (quote.ts).
 */
export function formatErrorMessage(spec: ErrorSpec, params: ErrorParams): string {
  return spec.message.replace(/\{(\w+)\}/g, (_, name: string) => {
    const value = params[name];
    if (value === undefined || value === null) return "";
    return spec.input?.includes(name) ? quoteInput(value) : escapeControls(String(value));
  });
}

/** The codes each error class may carry; a subclass without its own entry carries its parent's. */
const CODES = new WeakMap<Function, ErrorTable>();

function codesOf(cls: Function): ErrorTable {
  for (let c: Function | null = cls; c; c = Object.getPrototypeOf(c) as Function | null) {
    const table = CODES.get(c);
    if (table) return table;
  }
  return RUNTIME_ERROR_CODES;
}

/**
 * The base of every error the project raises on purpose. `code` is stable and
 * machine-readable; `message` is for humans; `toJSON` holds only safe fields, so a logger
 * that serialises the error cannot copy anything else (e.g. a request URL with a secret).
 * Each class knows its own codes: the runtime's classes the runtime's table, a family's
 * classes (made by `defineErrorClass`) the family's.
 */
export class JitError extends Error {
  readonly code: ErrorCode;
  readonly status: number;
  readonly family: ErrorFamily;
  readonly params: ErrorParams;
  readonly problems: readonly Problem[];
  /** Seconds a client should wait before retrying (the `retryAfter` param, else the code's own). */
  readonly retryAfter: number | undefined;

  constructor(code: RuntimeErrorCode, params?: ErrorParams, options?: JitErrorOptions);
  constructor(code: ErrorCode, params: ErrorParams = {}, options: JitErrorOptions = {}) {
    const spec = codesOf(new.target)[code];
    if (spec === undefined) throw new TypeError(`${new.target.name} has no error code ${code}`);
    super(options.message ?? formatErrorMessage(spec, params));
    this.name = new.target.name;
    this.code = code;
    this.status = spec.status;
    this.family = spec.family;
    this.params = params;
    this.problems = options.problems ?? [];
    const retry = typeof params.retryAfter === "number" ? params.retryAfter : spec.retryAfter;
    this.retryAfter = retry !== undefined && Number.isFinite(retry) ? retry : undefined;
  }

  toJSON(): { code: ErrorCode; message: string; problems?: Problem[] } {
    return this.problems.length > 0
      ? { code: this.code, message: this.message, problems: [...this.problems] }
      : { code: this.code, message: this.message };
  }
}

/** Builds a problem record with the registry's message for that code. */
export function problem(code: RuntimeErrorCode, params: ErrorParams, where: { file?: string; pointer?: string } = {}): Problem {
  return { code, message: formatErrorMessage(RUNTIME_ERROR_CODES[code], params), ...where };
}

/** An error class whose codes are `C`. */
export interface JitErrorClass<C extends string> {
  new (code: C, params?: ErrorParams, options?: JitErrorOptions): JitError & { readonly code: C };
  readonly prototype: JitError;
}

/**
 * The error class of one family of codes: it carries exactly the codes of `codes` whose
 * `family` is `family`, so a code is never raised under the wrong class by accident.
 * A family's module makes its classes with this (ARCHITECTURE.md, "Error codes").
 */
export function defineErrorClass<T extends ErrorTable, F extends string>(
  name: string,
  family: F,
  codes: T,
): JitErrorClass<{ [K in keyof T & string]: T[K]["family"] extends F ? K : never }[keyof T & string]> {
  const own: Record<string, ErrorSpec> = {};
  for (const [code, spec] of Object.entries(codes)) if (spec.family === family) own[code] = spec;
  const all = codes;
  const cls = class extends JitError {
    constructor(code: string, params: ErrorParams = {}, options: JitErrorOptions = {}) {
      if (!Object.hasOwn(own, code)) {
        const other = all[code]?.family;
        throw new TypeError(`${name} cannot carry ${code}${other ? ` (family ${other})` : ""}`);
      }
      super(code as RuntimeErrorCode, params, options);
    }
  };
  CODES.set(cls, Object.freeze(own));
  Object.defineProperty(cls, "name", { value: name });
  return cls as never;
}

export const DeclarationError = defineErrorClass("DeclarationError", "declaration", RUNTIME_ERROR_CODES);
export const ElementError = defineErrorClass("ElementError", "element", RUNTIME_ERROR_CODES);
export const SessionError = defineErrorClass("SessionError", "session", RUNTIME_ERROR_CODES);
export const StoreError = defineErrorClass("StoreError", "store", RUNTIME_ERROR_CODES);
export const HttpError = defineErrorClass("HttpError", "http", RUNTIME_ERROR_CODES);
export const CliError = defineErrorClass("CliError", "cli", RUNTIME_ERROR_CODES);
export const ConfigError = defineErrorClass("ConfigError", "config", RUNTIME_ERROR_CODES);

const ServiceErrorBase = defineErrorClass("ServiceError", "service", RUNTIME_ERROR_CODES);

/** The shape of a function's own error code: UPPER_SNAKE_CASE. */
export const SERVICE_CODE = /^[A-Z][A-Z0-9_]{1,63}$/;

/**
 * An error an app's own function throws with a code of its own, not in any table:
 * `throw new ServiceError("ORDER_EMPTY", { status: 422, message: "an order needs an item" })`.
 * The client gets `{ error: { code: "ORDER_EMPTY", message, requestId } }` with that status.
 * Declare the codes in the element's e.json (`errorCodes`) so OpenAPI lists them. Only 4xx:
 * a 5xx is a fault, answered as INTERNAL_ERROR with the detail in the log.
 */
export class ServiceError extends ServiceErrorBase {
  constructor(code: string, options: { status?: number; message?: string } = {}) {
    if (!SERVICE_CODE.test(code)) throw new TypeError(`ServiceError code must be UPPER_SNAKE_CASE (A-Z, 0-9, _), got ${JSON.stringify(code).slice(0, 60)}`);
    const status = options.status ?? 400;
    if (!Number.isInteger(status) || status < 400 || status > 499) throw new TypeError(`ServiceError ${code}: status must be a 4xx, got ${status}`);
    super("SERVICE_ERROR", {}, { message: escapeControls(options.message ?? code) });
    // SERVICE_ERROR gives the class its family; the code and status are the function's own.
    Object.defineProperty(this, "code", { value: code, enumerable: true });
    Object.defineProperty(this, "status", { value: status, enumerable: true });
  }
}

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
