import pino from "pino";

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
];

export function createLogger(options: { level?: string; destination?: NodeJS.WritableStream | number } = {}): Logger {
  const level = options.level ?? process.env.JIT_LOG_LEVEL ?? "info";
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
