import pino from "pino";
import { ConfigError } from "../errors/index.ts";

/** The logging port: pino-compatible, so the server's logger can be passed straight in. */
export interface Logger {
  debug(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  error(obj: object, msg?: string): void;
  child(bindings: Record<string, unknown>): Logger;
}

/**
 * Object paths that may hold secrets (not a bare `code`: error codes travel under that name). pino's redact matches paths only, not secrets inside
 * strings (style.md), so code must also never put a secret into a message or URL it logs.
 */
export const REDACT_PATHS = [
  "appSecret", "*.appSecret", "authConfig.appSecret", "*.authConfig.appSecret",
  "secret", "*.secret", "session_key", "*.session_key", "sessionKey", "*.sessionKey",
  "access_token", "*.access_token", "js_code", "*.js_code", "jsCode", "*.jsCode", "args.code", "*.args.code",
  "bindCode", "*.bindCode", "loginCode", "*.loginCode", "token", "*.token",
  "req.headers.authorization", "headers.authorization", "*.headers.authorization",
  "body.code", "body.bindCode", "body.loginCode", "body.token",
  "password", "*.password", "oldPassword", "*.oldPassword", "newPassword", "*.newPassword", "passwordHash", "*.passwordHash",
  "body.password", "body.oldPassword", "body.newPassword",
];

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
    { level, redact: { paths: REDACT_PATHS, censor: "[redacted]" }, base: undefined },
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
