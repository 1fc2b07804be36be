import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import pino from "pino";
import { currentCallContext } from "../context/callContext.ts";
import { REDACT_PATHS, type Logger } from "../logging/logger.ts";

/**
 * Structured JSON logs for the server: one line per event, the request id on every line
 * (Fastify binds it as `reqId`), secrets redacted by path. pino redacts object paths only,
 * so URLs are logged without their query string and errors through `safeError`.
 */

export interface HttpLogOptions {
  /** pino level; default JIT_LOG_LEVEL or "info". */
  level?: string;
  /** Where lines go; default stderr (stdout carries the CLI's own output). */
  stream?: NodeJS.WritableStream;
}

const HTTP_REDACT = [
  ...REDACT_PATHS,
  "req.headers.cookie",
  "headers.cookie",
  "*.body.code",
  "*.body.bindCode",
  "*.body.loginCode",
  "*.body.token",
];

export function stripQuery(url: string | undefined): string {
  if (!url) return "";
  const at = url.indexOf("?");
  return at === -1 ? url : `${url.slice(0, at)}?[redacted]`;
}

/** Removes query strings from any URL inside free text (error messages, stacks). */
export function scrubText(text: string): string {
  return text.replace(/(https?:\/\/[^\s"'?]*)\?[^\s"']*/g, "$1?[redacted]").replace(/(\/[^\s"'?]*)\?[^\s"']*/g, "$1?[redacted]");
}

/** Only name, code, message and stack of an unexpected error, query strings scrubbed. */
export function safeError(err: unknown): { type: string; message: string; stack: string; [key: string]: unknown } {
  if (!(err instanceof Error)) return { type: typeof err, message: "", stack: "" };
  const code = (err as { code?: unknown }).code;
  return {
    type: err.name,
    ...(typeof code === "string" ? { code } : {}),
    message: scrubText(err.message),
    stack: scrubText(err.stack ?? ""),
  };
}

/**
 * stderr, written asynchronously (a synchronous write per line costs the event loop on every
 * request); `flushLogs` is called on shutdown so the last lines are not lost at exit.
 */
let stderrDestination: ReturnType<typeof pino.destination> | undefined;
function stderrStream() {
  stderrDestination ??= pino.destination({ fd: 2, sync: false, minLength: 0 });
  return stderrDestination;
}

export function flushLogs(): void {
  try {
    stderrDestination?.flushSync();
  } catch {
    // Nothing buffered, or stderr is gone: nothing to save.
  }
}

export function fastifyLoggerOptions(options: HttpLogOptions) {
  return {
    level: options.level ?? process.env.JIT_LOG_LEVEL ?? "info",
    stream: options.stream ?? stderrStream(),
    base: undefined,
    redact: { paths: HTTP_REDACT, censor: "[redacted]" },
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string; headers?: Record<string, unknown> }) => ({
        method: req.method,
        url: stripQuery(req.url),
        remoteAddress: req.ip,
      }),
      res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
      err: safeError,
    },
  };
}

const SANE_REQUEST_ID = /^[A-Za-z0-9._:-]{1,64}$/;

/** Accepts a well-formed incoming `x-request-id` (so ids follow a request across proxies), else a UUID. */
export function genRequestId(req: IncomingMessage): string {
  const incoming = req.headers["x-request-id"];
  return typeof incoming === "string" && SANE_REQUEST_ID.test(incoming) ? incoming : randomUUID();
}

/**
 * The server's logger as the app's logger: the same asynchronous stream and redaction, and
 * each line carries the request id of the call it was written in (as `reqId`, like Fastify's
 * own lines), so element lines can be joined to their request.
 */
export function appLogger(log: Logger): Logger {
  const withId = (obj: object): object => {
    const reqId = currentCallContext()?.requestId;
    return reqId === undefined ? obj : { reqId, ...obj };
  };
  return {
    debug: (obj, msg) => log.debug(withId(obj), msg),
    info: (obj, msg) => log.info(withId(obj), msg),
    warn: (obj, msg) => log.warn(withId(obj), msg),
    error: (obj, msg) => log.error(withId(obj), msg),
    child: (bindings) => appLogger(log.child(bindings)),
  };
}
