import type { FastifyInstance, onRequestHookHandler } from "fastify";
import rateLimit from "@fastify/rate-limit";
import { HttpError } from "../errors/index.ts";
import type { HttpLimits, Rate } from "./options.ts";
import type { RouteDeps } from "./routes.ts";
import { MemoryRateStore, type RateStore, type WindowCount } from "./rateStore.ts";

/**
 * The server's limits, each a fixed window over a RateStore (rateStore.ts):
 * - per client IP, shared by every route that declares it (by default every function that
 *   needs no login), so an attacker cannot spread over functions;
 * - per logged-in user, shared by every function that declares it, checked after the session
 *   is known and before the function runs (so before it spends any upstream quota);
 * - the per-key limits families declare (FamilyDefinition.limits), counted when their
 *   elements call currentCallContext().limit(name, key).
 * All refuse with 429 RATE_LIMITED and Retry-After.
 */

const retryAfterS = (ttlMs: number) => Math.max(1, Math.ceil(ttlMs / 1000));

/** Counts hits per key; throws RATE_LIMITED (with retryAfter seconds) once the window is full. */
export class FixedWindowLimiter {
  readonly #rate: Rate;
  readonly #store: RateStore;

  constructor(rate: Rate, store: RateStore) {
    this.#rate = rate;
    this.#store = store;
  }

  /** Synchronous over a synchronous store (the memory one), so the hot path makes no promise. */
  hit(key: string): void | Promise<void> {
    const counted = this.#store.hit(key, this.#rate);
    if ("then" in counted) return counted.then((c) => this.#check(c));
    this.#check(counted);
  }

  #check({ count, ttlMs }: WindowCount): void {
    if (count > this.#rate.max) throw new HttpError("RATE_LIMITED", { retryAfter: retryAfterS(ttlMs) });
  }
}

/** A RateStore in the shape @fastify/rate-limit takes as its `store` option. */
function pluginStore(store: RateStore) {
  return class {
    incr(key: string, callback: (error: Error | null, result?: { current: number; ttl: number }) => void, timeWindow: number, max: number): void {
      const answer = ({ count, ttlMs }: WindowCount) => callback(null, { current: Number.isFinite(count) ? count : max + 1, ttl: ttlMs });
      const fail = (err: unknown) => callback(err instanceof Error ? err : new Error(String(err)));
      let counted: WindowCount | Promise<WindowCount>;
      try {
        counted = store.hit(key, { max, windowMs: timeWindow });
      } catch (err) {
        fail(err);
        return;
      }
      if ("then" in counted) counted.then(answer, fail);
      else answer(counted);
    }
    child() {
      return this;
    }
  };
}

/** Registers @fastify/rate-limit (not global) over `store` and returns the shared per-IP hook. */
async function ipRateLimitHook(server: FastifyInstance, rate: Rate, store: RateStore): Promise<onRequestHookHandler> {
  await server.register(rateLimit, {
    global: false,
    max: rate.max,
    timeWindow: rate.windowMs,
    store: pluginStore(store) as never,
    errorResponseBuilder: (_request, context) => new HttpError("RATE_LIMITED", { retryAfter: retryAfterS(context.ttl) }),
  });
  return server.rateLimit({ max: rate.max, timeWindow: rate.windowMs }) as onRequestHookHandler;
}

/** "ip", "user", or the name of a family's limit. */
export type LimitName = string;

/**
 * The limits as the routes take them; a limit set to null (off) is left out. Each limit has
 * its own store (by default a bounded in-memory one), so a flood of addresses cannot crowd
 * out the users' or identities' counts.
 */
export async function createLimiters(
  server: FastifyInstance,
  limits: HttpLimits,
  options: { rateStore?: (limit: LimitName) => RateStore; now?: () => number },
): Promise<Pick<RouteDeps, "ipRateHook" | "limitUser" | "limit">> {
  const storeOf =
    options.rateStore ??
    ((limit: LimitName) =>
      new MemoryRateStore({
        maxKeys: limits.rateKeys,
        ...(options.now ? { now: options.now } : {}),
        onFull: ({ keys, retryAfterMs }) =>
          server.log.warn({ limit, keys, retryAfterMs }, `the ${limit} rate limit holds ${keys} limited keys: new keys are refused for ${retryAfterS(retryAfterMs)} s`),
      }));
  const user = limits.userRate ? new FixedWindowLimiter(limits.userRate, storeOf("user")) : null;
  const keyed = new Map<string, FixedWindowLimiter | null>();
  for (const [name, rate] of Object.entries(limits.familyRates)) keyed.set(name, rate ? new FixedWindowLimiter(rate, storeOf(name)) : null);
  const limit = (name: string, key: string): void | Promise<void> => {
    const limiter = keyed.get(name);
    if (limiter === undefined) throw new TypeError(`no family declares the limit "${name}" (FamilyDefinition.limits)`);
    return limiter?.hit(key);
  };
  return {
    ipRateHook: limits.ipRate ? await ipRateLimitHook(server, limits.ipRate, storeOf("ip")) : null,
    ...(user ? { limitUser: (userId: number) => user.hit(String(userId)) } : {}),
    ...([...keyed.values()].some(Boolean) ? { limit } : {}),
  };
}
