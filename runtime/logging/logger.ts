import pino from "pino";
import { ConfigError } from "../errors/index.ts";
import { redactPaths, RUNTIME_SECRETS } from "../family/secrets.ts";

/** The logging port: pino-compatible, so the server's logger can be passed straight in. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  /** pino's second argument; a logger that ignores it gets no redaction of the app's family secrets. */
  child(bindings: Record<string, unknown>, options?: { redact?: { paths: string[]; censor: string } }): Logger;
}

/**
 * The runtime's own redaction (sessions, anything named a secret, credentials in headers).
 * The families an app loads add theirs (`withRedaction`, from their family modules' `secrets`).
 */
export const REDACT_PATHS = redactPaths([RUNTIME_SECRETS]);

/** `logger` redacting `paths` as well (a pino child replaces its parent's redaction, so pass them all). */
export function withRedaction(logger: Logger, paths: readonly string[]): Logger {
  return logger.child({}, { redact: { paths: [...paths], censor: REDACTED } });
}

export const REDACTED = "[redacted]";

/** pino's own levels; we define no custom ones. */
export const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;
export type LogLevel = (typeof LOG_LEVELS)[number];

/**
 * `level` if given, else JIT_LOG_LEVEL, else "info" (empty counts as unset). Anything else is
 * refused by name: pino itself throws a bare Error on an unknown level, which reached the
 * user as "INTERNAL_ERROR unexpected error" and stopped every command.
 */
export function resolveLogLevel(level?: string, env: Readonly<Record<string, string | undefined>> = process.env): LogLevel {
  const [raw, source] = level !== undefined ? [level, "log level"] : [env.JIT_LOG_LEVEL, "JIT_LOG_LEVEL"];
  // Forgiving of case and surrounding blanks ("INFO", "info\r" from a Windows .env file).
  const value = raw?.trim().toLowerCase();
  if (value === undefined || value === "") return "info";
  if ((LOG_LEVELS as readonly string[]).includes(value)) return value as LogLevel;
  throw new ConfigError("CONFIG_INVALID", { source, reason: `must be one of ${LOG_LEVELS.join(", ")}, got "${value.slice(0, 40)}"` });
}

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream | number } = {}): Logger {
  const level = resolveLogLevel(options.level);
  const destination = options.destination ?? 2; // stderr: stdout carries command results
  return pino(
    { level, redact: { paths: REDACT_PATHS, censor: REDACTED }, base: undefined },
    typeof destination === "number" ? pino.destination({ fd: destination, sync: true }) : destination,
  ) as unknown as Logger;
}

export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  child() {
    return silentLogger;
  },
};
