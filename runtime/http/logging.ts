import pino from "pino";
import { currentCallContext } from "../context/callContext.ts";
import { quoteInput } from "../errors/index.ts";
import { redactPaths, RUNTIME_SECRETS } from "../family/secrets.ts";
import type { FamilySecrets } from "../family/types.ts";
import { REDACTED, resolveLogLevel, type Logger } from "../logging/logger.ts";

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

/** The server's redaction: the runtime's secrets and those of the app's families (their family modules). */
export function httpRedactPaths(secrets: readonly FamilySecrets[] = [RUNTIME_SECRETS]): string[] {
  return redactPaths(secrets);
}

export function stripQuery(url: string | undefined): string {
  if (!url) return "";
  const at = url.indexOf("?");
  return at === -1 ? url : `${url.slice(0, at)}?[redacted]`;
}

/**
 * A request URL as log lines show it: the path quoted like any client input (escaped, cut at
 * about 100 characters: quote.ts), the query string replaced by a marker.
 */
export function logUrl(url: string | undefined): string {
  if (!url) return "";
  const at = url.indexOf("?");
  return at === -1 ? quoteInput(url) : `${quoteInput(url.slice(0, at))}?[redacted]`;
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

/** Where the server's lines go: the caller's stream, else the asynchronous stderr. */
export function logStream(options: HttpLogOptions): { write(line: string): unknown } {
  return options.stream ?? stderrStream();
}

export function fastifyLoggerOptions(options: HttpLogOptions, secrets?: readonly FamilySecrets[]) {
  return {
    level: resolveLogLevel(options.level),
    stream: logStream(options),
    base: undefined,
    redact: { paths: httpRedactPaths(secrets), censor: REDACTED },
    serializers: {
      req: (req: { method?: string; url?: string; ip?: string; headers?: Record<string, unknown> }) => ({
        method: req.method,
        url: logUrl(req.url),
        remoteAddress: req.ip,
      }),
      res: (reply: { statusCode?: number }) => ({ statusCode: reply.statusCode }),
      err: safeError,
    },
  };
}

/**
 * The one line per request, written as pino would write it (same fields, level 30, epoch ms)
 * but built by hand, straight to the log stream. Why: through pino it was the costliest part
 * of a login's own work after the database (serializers, path redaction, a child logger per
 * request). No redaction is needed: the line is made of safe fields only (method, the path
 * quoted (logUrl) without its query string, client address, status, time, and the request id, which
 * requestIdGenerator (trust.ts) restricts to a safe alphabet), each escaped by JSON.stringify.
 */
export function accessLine(
  request: { id: string; method: string; url: string; ip: string },
  statusCode: number,
  responseTime: number,
  now: number,
): string {
  return (
    `{"level":30,"time":${now},"reqId":${JSON.stringify(request.id)},` +
    `"req":{"method":${JSON.stringify(request.method)},"url":${JSON.stringify(logUrl(request.url))},"remoteAddress":${JSON.stringify(request.ip)}},` +
    `"res":{"statusCode":${statusCode}},"responseTime":${Math.round(responseTime * 100) / 100},"msg":"request completed"}\n`
  );
}

type PinoLike = Record<"info" | "error" | "debug" | "fatal" | "warn" | "trace", (...args: unknown[]) => void> & {
  child(bindings: Record<string, unknown>, options?: object): PinoLike;
  isLevelEnabled(level: string): boolean;
  level: string;
};

const LEVELS = ["trace", "debug", "info", "warn", "error", "fatal"] as const;

/**
 * Fastify's childLoggerFactory: the per-request logger (request.log, carrying reqId) is made
 * only when something actually logs through it. Most requests never do (the access line is
 * written by accessLine), and a pino child per request was measurable on the login path.
 */
export function lazyChildLoggerFactory(this: unknown, logger: PinoLike, bindings: Record<string, unknown>, options: object): PinoLike {
  // Route-level levels or serializers: nothing to save, make the real child.
  if (Object.keys(options).length > 0) return logger.child(bindings, options);
  let real: PinoLike | undefined;
  const get = () => (real ??= logger.child(bindings));
  const lazy = {
    child: (more: Record<string, unknown>, opts?: object) => get().child(more, opts),
    isLevelEnabled: (level: string) => (real ?? logger).isLevelEnabled(level),
    get level() {
      return (real ?? logger).level;
    },
    set level(value: string) {
      get().level = value;
    },
  } as PinoLike;
  for (const level of LEVELS) {
    lazy[level] = (...args: unknown[]) => {
      if ((real ?? logger).isLevelEnabled(level)) get()[level](...args);
    };
  }
  return lazy;
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
