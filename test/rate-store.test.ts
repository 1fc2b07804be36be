import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS, resolveLimits } from "../runtime/http/options.ts";
import { FixedWindowLimiter } from "../runtime/http/rateLimit.ts";
import { MemoryRateStore, type RateStore } from "../runtime/http/rateStore.ts";
import { LOGIN, startStack, type Stack } from "./helpers/http.ts";

/**
 * Regression: the per-IP limit could be reset by flooding it from other addresses. Its store
 * remembered the last 5,000 keys, so after 5,000 one-off addresses a limited address got 60
 * more answers in the same minute. A key over its limit is now kept for its whole window.
 */
const RATE = { max: 2, windowMs: 60_000 };

describe("MemoryRateStore", () => {
  it("keeps a limited key through a flood of 5,000 one-off keys, within its bound", () => {
    let now = 1_000;
    const store = new MemoryRateStore({ maxKeys: 100, now: () => now });
    for (let i = 0; i < 3; i++) store.hit("limited", RATE);
    for (let i = 0; i < 5_000; i++) {
      store.hit(`one-off-${i}`, RATE);
      now += 1;
    }
    expect(store.size).toBeLessThanOrEqual(100);
    expect(store.hit("limited", RATE)).toEqual({ count: 4, ttlMs: 60_000 - 5_000 });
  });

  it("drops finished windows first, then keys under their limit, oldest first", () => {
    let now = 0;
    const store = new MemoryRateStore({ maxKeys: 10, now: () => now });
    store.hit("short", { max: 5, windowMs: 1_000 });
    for (let i = 0; i < 3; i++) store.hit("limited", RATE);
    for (let i = 0; i < 8; i++) store.hit(`under-${i}`, RATE);
    now = 1_000; // "short" has ended: dropping it is room enough
    store.hit("new-1", RATE);
    expect(store.size).toBe(10);
    expect(store.hit("under-0", RATE).count).toBe(2);
    // Full again, nothing finished: keys under their limit go, oldest first, down to 9.
    store.hit("new-2", RATE);
    expect(store.size).toBe(10);
    expect(store.hit("limited", RATE).count).toBe(4); // the oldest, but limited: kept
    expect(store.hit("under-1", RATE).count).toBe(2); // kept
    expect(store.hit("under-0", RATE).count).toBe(1); // forgotten: starts again
  });

  it("full of live limited keys: refuses new keys until the first window ends, and says so once", () => {
    let now = 0;
    const full: Array<{ keys: number; retryAfterMs: number }> = [];
    const store = new MemoryRateStore({ maxKeys: 3, now: () => now, onFull: (info) => full.push(info) });
    for (const key of ["a", "b", "c"]) {
      for (let i = 0; i < 3; i++) store.hit(key, RATE);
      now += 10_000;
    }
    // The limited keys stay limited, and a new key is refused (fail closed) rather than let in untracked.
    expect(store.hit("new", RATE)).toEqual({ count: Infinity, ttlMs: 30_000 });
    expect(store.hit("other", RATE).count).toBe(Infinity);
    expect(store.hit("a", RATE).count).toBe(4);
    expect(full).toEqual([{ keys: 3, retryAfterMs: 30_000 }]);
    now = 60_000; // "a" has ended
    expect(store.hit("new", RATE)).toEqual({ count: 1, ttlMs: 60_000 });
    expect(store.hit("b", RATE).count).toBe(4);
  });

  it("a limiter over a store that answers asynchronously (a shared store) refuses the same way", async () => {
    const memory = new MemoryRateStore();
    const remote: RateStore = { hit: async (key, rate) => memory.hit(key, rate) };
    const limiter = new FixedWindowLimiter({ max: 1, windowMs: 10_000 }, remote);
    await limiter.hit("k");
    await expect(limiter.hit("k")).rejects.toMatchObject({ code: "RATE_LIMITED", params: { retryAfter: 10 } });
  });

  it("JIT_RATE_LIMIT_KEYS sizes the stores; nonsense is CONFIG_INVALID", () => {
    expect(resolveLimits({}, {}).rateKeys).toBe(100_000);
    expect(resolveLimits({}, { JIT_RATE_LIMIT_KEYS: "5000" }).rateKeys).toBe(5_000);
    for (const bad of ["10", "lots", "1e6", "-5"]) {
      expect(() => resolveLimits({}, { JIT_RATE_LIMIT_KEYS: bad })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    }
  });
});

describe("the per-IP limit over HTTP", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  /** `count` requests to a login function from `address`, 32 at a time; returns their statuses. */
  async function from(s: Stack, addresses: string[]): Promise<number[]> {
    const statuses: number[] = [];
    for (let i = 0; i < addresses.length; i += 32) {
      const batch = addresses.slice(i, i + 32).map((ip) => s.call(`${LOGIN}/getLoginCode`, {}, { headers: { "x-forwarded-for": ip } }));
      statuses.push(...(await Promise.all(batch)).map((r) => r.status));
    }
    return statuses;
  }
  const oneOff = (n: number) => Array.from({ length: n }, (_, i) => `10.${(i >> 16) & 255}.${(i >> 8) & 255}.${i & 255}`);

  async function limitedAfterFlood(s: Stack, others: number): Promise<void> {
    const attacker = "203.0.113.66";
    const first = await from(s, Array(61).fill(attacker));
    expect(first.filter((status) => status === 400)).toHaveLength(60); // 60 answered (an empty body is a 400)
    expect(first[60]).toBe(429);
    expect(new Set(await from(s, oneOff(others)))).toEqual(new Set([400]));
    const after = await s.call(`${LOGIN}/getLoginCode`, {}, { headers: { "x-forwarded-for": attacker } });
    expect(after.status).toBe(429);
    expect(Number(after.headers.get("retry-after"))).toBeGreaterThan(0);
  }

  it("a limited address is still limited after 5,000 others (the default limits)", async () => {
    stack = await startStack({ limits: { ipRate: DEFAULT_LIMITS.ipRate, rateKeys: DEFAULT_LIMITS.rateKeys }, trustProxy: ["127.0.0.1"], httpLog: false });
    await limitedAfterFlood(stack, 5_000);
  }, 60_000);

  it("and through a store of 100 keys flooded ten times over", async () => {
    stack = await startStack({ limits: { ipRate: DEFAULT_LIMITS.ipRate, rateKeys: 100 }, trustProxy: ["127.0.0.1"], httpLog: false });
    await limitedAfterFlood(stack, 1_000);
  }, 60_000);
});
