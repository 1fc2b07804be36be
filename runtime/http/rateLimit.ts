import type { FastifyInstance, onRequestHookHandler } from "fastify";
import rateLimit from "@fastify/rate-limit";
import { HttpError } from "../errors/index.ts";
import type { Rate } from "./options.ts";

/**
 * Two limits on the login functions (the ones anyone may call): per client IP, shared by
 * every login route (so an attacker cannot spread over functions), and per WeChat identity,
 * applied when a login Type reports the openId behind a code (currentCallContext().onIdentity).
 * Both refuse with 429 RATE_LIMITED and Retry-After.
 */

/** A small in-memory fixed-window counter keyed by string. */
export class FixedWindowLimiter {
  readonly #rate: Rate;
  readonly #now: () => number;
  readonly #windows = new Map<string, { count: number; resetAt: number }>();
  readonly #maxKeys: number;

  constructor(rate: Rate, options: { now?: () => number; maxKeys?: number } = {}) {
    this.#rate = rate;
    this.#now = options.now ?? Date.now;
    this.#maxKeys = options.maxKeys ?? 100_000;
  }

  /** Counts one hit; throws RATE_LIMITED (with retryAfter seconds) once the window is full. */
  hit(key: string): void {
    const now = this.#now();
    let window = this.#windows.get(key);
    if (!window || window.resetAt <= now) {
      if (!window && this.#windows.size >= this.#maxKeys) this.#sweep(now);
      window = { count: 0, resetAt: now + this.#rate.windowMs };
      this.#windows.set(key, window);
    }
    window.count += 1;
    if (window.count > this.#rate.max) {
      throw new HttpError("RATE_LIMITED", { retryAfter: Math.max(1, Math.ceil((window.resetAt - now) / 1000)) });
    }
  }

  get size(): number {
    return this.#windows.size;
  }

  // Bounded memory: drop finished windows; if still full, drop the oldest entries.
  #sweep(now: number): void {
    for (const [key, window] of this.#windows) if (window.resetAt <= now) this.#windows.delete(key);
    for (const key of this.#windows.keys()) {
      if (this.#windows.size < this.#maxKeys) break;
      this.#windows.delete(key);
    }
  }
}

/** Registers @fastify/rate-limit (not global) and returns the shared per-IP hook for login routes. */
export async function ipRateLimitHook(server: FastifyInstance, rate: Rate): Promise<onRequestHookHandler> {
  await server.register(rateLimit, {
    global: false,
    max: rate.max,
    timeWindow: rate.windowMs,
    errorResponseBuilder: (_request, context) =>
      new HttpError("RATE_LIMITED", { retryAfter: Math.max(1, Math.ceil(context.ttl / 1000)) }),
  });
  return server.rateLimit({ max: rate.max, timeWindow: rate.windowMs }) as onRequestHookHandler;
}
