import { isJitError, StoreError } from "../../errors/index.ts";

/**
 * Which pg failures mean "the database is not answering" (a 503 a client may retry, and a
 * health check that fails) rather than a fault in a statement. pg reports a lost or refused
 * connection as a plain Error (a Node system error, or one of its own messages), and the
 * server's refusals by SQLSTATE.
 */
const UNAVAILABLE_SQLSTATE_CLASSES = ["08", "53", "57"]; // connection exception, insufficient resources, operator intervention (incl. 57014 statement timeout)
const UNAVAILABLE_SYSCALL_CODES = new Set(["ECONNREFUSED", "ECONNRESET", "EPIPE", "ETIMEDOUT", "EHOSTUNREACH", "ENETUNREACH", "ENOTFOUND", "EAI_AGAIN", "ECONNABORTED"]);
const UNAVAILABLE_MESSAGES = [
  /^Connection terminated/, // "… unexpectedly", "… due to connection timeout"
  /^timeout expired$/, // connect timeout of one client
  /^timeout exceeded when trying to connect$/, // the pool's connect timeout
  /^Query read timeout$/,
  /not queryable/, // a client that already lost its connection
];

export function sqlState(err: unknown): string | undefined {
  const code = (err as { code?: unknown } | null)?.code;
  return typeof code === "string" && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

export function isUnavailable(err: unknown): boolean {
  if (!(err instanceof Error) || isJitError(err)) return false;
  if (err instanceof AggregateError) return err.errors.some(isUnavailable);
  const state = sqlState(err);
  if (state !== undefined) return UNAVAILABLE_SQLSTATE_CLASSES.includes(state.slice(0, 2));
  const code = (err as NodeJS.ErrnoException).code;
  if (typeof code === "string" && UNAVAILABLE_SYSCALL_CODES.has(code)) return true;
  return UNAVAILABLE_MESSAGES.some((re) => re.test(err.message));
}

/** The SQLSTATE and the message, never the statement's parameters (pg keeps those off its errors). */
export function describe(err: unknown): string {
  if (!(err instanceof Error)) return String(err);
  // "localhost" may resolve to ::1 and 127.0.0.1: Node then reports every attempt in an
  // AggregateError whose own message is empty.
  if (err instanceof AggregateError && err.message === "") return [...new Set(err.errors.map(describe))].join("; ");
  const state = sqlState(err);
  const message = err.message || (err as NodeJS.ErrnoException).code || err.name;
  return state ? `${message} (SQLSTATE ${state})` : message;
}

/** A store method's failure as callers see it: typed when the database did not answer, else unchanged. */
export function toStoreError(err: unknown, label: string): unknown {
  return isUnavailable(err) ? new StoreError("STORE_UNAVAILABLE", { file: label, reason: describe(err) }) : err;
}
