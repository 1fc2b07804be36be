import { ConfigError } from "../errors/index.ts";
import { resolveTimerMs } from "./timerSetting.ts";

/**
 * The HTTP server's timeouts, chosen rather than inherited from Node and Fastify (whose
 * defaults leave a request with no overall limit and a keep-alive socket idle for 72 s).
 * A client that sends its headers a byte at a time (slowloris) is cut off by headersTimeout.
 */
export interface ServerTimeouts {
  /** The whole request head must arrive within this (Node's `headersTimeout`). */
  headersTimeoutMs: number;
  /** The whole request, head and body, must arrive within this (`requestTimeout`). */
  requestTimeoutMs: number;
  /** An idle keep-alive connection is closed after this (`keepAliveTimeout`). */
  keepAliveTimeoutMs: number;
  /** A socket with no traffic at all is closed after this (`server.setTimeout`). */
  connectionTimeoutMs: number;
}

export const DEFAULT_TIMEOUTS: ServerTimeouts = {
  headersTimeoutMs: 10_000,
  requestTimeoutMs: 30_000,
  keepAliveTimeoutMs: 5_000,
  connectionTimeoutMs: 60_000,
};

/** How often Node checks the headers and request timeouts (its default, 30 s, would let a slow client stay 30 s too long). */
export const TIMEOUT_CHECK_INTERVAL_MS = 1_000;

const ENV: Record<keyof ServerTimeouts, string> = {
  headersTimeoutMs: "JIT_HEADERS_TIMEOUT_MS",
  requestTimeoutMs: "JIT_REQUEST_TIMEOUT_MS",
  keepAliveTimeoutMs: "JIT_KEEP_ALIVE_TIMEOUT_MS",
  connectionTimeoutMs: "JIT_CONNECTION_TIMEOUT_MS",
};

/** Options win over JIT_HEADERS_TIMEOUT_MS and the others, which win over DEFAULT_TIMEOUTS. */
export function resolveTimeouts(options: Partial<ServerTimeouts> = {}, env: Readonly<Record<string, string | undefined>> = process.env): ServerTimeouts {
  const pick = (name: keyof ServerTimeouts) =>
    resolveTimerMs({
      option: options[name],
      optionName: name,
      env,
      envName: ENV[name],
      fallback: DEFAULT_TIMEOUTS[name],
      // 0 would mean "no limit" to Node: a limit is the point.
      min: 1,
      reason: (text) => `expected milliseconds from 1 to 2147483647, got ${JSON.stringify(text.slice(0, 20))}`,
    });
  const timeouts: ServerTimeouts = {
    headersTimeoutMs: pick("headersTimeoutMs"),
    requestTimeoutMs: pick("requestTimeoutMs"),
    keepAliveTimeoutMs: pick("keepAliveTimeoutMs"),
    connectionTimeoutMs: pick("connectionTimeoutMs"),
  };
  if (timeouts.headersTimeoutMs > timeouts.requestTimeoutMs) {
    throw new ConfigError("CONFIG_INVALID", { source: ENV.headersTimeoutMs, reason: `the headers timeout (${timeouts.headersTimeoutMs} ms) cannot exceed the request timeout (${timeouts.requestTimeoutMs} ms)` });
  }
  return timeouts;
}
