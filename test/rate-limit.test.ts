import { afterEach, describe, expect, it } from "vitest";
import { FixedWindowLimiter } from "../runtime/http/rateLimit.ts";
import { MemoryRateStore } from "../runtime/http/rateStore.ts";
import { parseRate, resolveLimits, resolveTrustProxy } from "../runtime/http/options.ts";
import { AUTH, LOGIN, startStack, type Stack } from "./helpers/http.ts";

// Per-IP and per-openId limits on the login functions: 429 RATE_LIMITED with Retry-After.
describe("rate limits", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("parses rates and resolves options over env over defaults", () => {
    expect(parseRate("60/minute", "x")).toEqual({ max: 60, windowMs: 60_000 });
    expect(parseRate("5/10s", "x")).toEqual({ max: 5, windowMs: 10_000 });
    expect(parseRate("off", "x")).toBeNull();
    expect(() => parseRate("lots", "JIT_RATE_LIMIT_IP")).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    // Family limits: explicit option, else the family's variable, else the family's default.
    const declared = {
      identity: { env: "JIT_RATE_LIMIT_OPENID", default: "20/minute", description: "one identity" },
      device: { env: "SHOP_RATE_LIMIT_DEVICE", default: "5/minute", description: "one device" },
      visit: { env: "SHOP_RATE_LIMIT_VISIT", default: "3/second", description: "one visit" },
    };
    const env = { JIT_RATE_LIMIT_IP: "7/hour", JIT_RATE_LIMIT_OPENID: "9/minute", SHOP_RATE_LIMIT_DEVICE: "2/hour", JIT_BODY_LIMIT: "8kb" };
    const limits = resolveLimits({ familyRates: { identity: { max: 1, windowMs: 1000 } } }, env, declared);
    expect(limits).toEqual({
      bodyLimit: 8192,
      ipRate: { max: 7, windowMs: 3_600_000 },
      userRate: { max: 10, windowMs: 60_000 },
      familyRates: { identity: { max: 1, windowMs: 1000 }, device: { max: 2, windowMs: 3_600_000 }, visit: { max: 3, windowMs: 1000 } },
      rateKeys: 100_000,
    });
    expect(() => resolveLimits({}, { SHOP_RATE_LIMIT_DEVICE: "lots" }, declared)).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("SHOP_RATE_LIMIT_DEVICE") }));
    expect(resolveLimits({}, {}).bodyLimit).toBe(16 * 1024);
  });

  it("a fixed window counts, refuses with retryAfter, and opens again", () => {
    let now = 1_000_000;
    const store = new MemoryRateStore({ now: () => now, maxKeys: 3 });
    const limiter = new FixedWindowLimiter({ max: 2, windowMs: 10_000 }, store);
    limiter.hit("a");
    limiter.hit("a");
    now += 4_000;
    expect(() => limiter.hit("a")).toThrow(expect.objectContaining({ code: "RATE_LIMITED", params: { retryAfter: 6 } }));
    limiter.hit("b");
    now += 6_000;
    limiter.hit("a");
    // Memory stays bounded by maxKeys.
    for (const key of ["c", "d", "e", "f"]) limiter.hit(key);
    expect(store.size).toBeLessThanOrEqual(3);
  });

  it("limits login calls per IP across all login functions, not logged-in calls", async () => {
    stack = await startStack({ limits: { ipRate: { max: 3, windowMs: 60_000 } } });
    const s = stack;
    expect((await s.call(`${LOGIN}/getLoginCode`, { code: s.code("ip-1") })).status).toBe(200);
    expect((await s.call(`${LOGIN}/register`, { bindCode: "no-such-code-0000000000000" })).status).toBe(400);
    expect((await s.call(`${AUTH}/loginByCode`, { loginCode: "no-such-code-0000000000000" })).status).toBe(400);
    const limited = await s.call(`${LOGIN}/getLoginCode`, { code: s.code("ip-2") });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("RATE_LIMITED");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
    expect(limited.body.error.requestId).toBe(limited.headers.get("x-request-id"));
    // WeChat was not called for the refused request.
    expect(s.fake.stats().jscode2session).toBe(1);
    // loginRequired functions are not behind the login limit.
    const noToken = await s.call(`${AUTH}/getCurrentUser`);
    expect(noToken.status).toBe(401);
  });

  it("behind a trusted proxy, counts each client address separately", async () => {
    expect(resolveTrustProxy(undefined)).toBe(false);
    expect(resolveTrustProxy("true")).toBe(true);
    expect(resolveTrustProxy("127.0.0.1, 10.0.0.0/8")).toEqual(["127.0.0.1", "10.0.0.0/8"]);
    stack = await startStack({ limits: { ipRate: { max: 1, windowMs: 60_000 } }, trustProxy: ["127.0.0.1"] });
    const s = stack;
    const as = (ip: string) => ({ headers: { "x-forwarded-for": ip } });
    expect((await s.call(`${LOGIN}/register`, { bindCode: "no-such-code-0000000000000" }, as("203.0.113.1"))).status).toBe(400);
    expect((await s.call(`${LOGIN}/register`, { bindCode: "no-such-code-0000000000000" }, as("203.0.113.2"))).status).toBe(400);
    expect((await s.call(`${LOGIN}/register`, { bindCode: "no-such-code-0000000000000" }, as("203.0.113.1"))).status).toBe(429);
  });

  it("limits per WeChat identity, whatever the IP, and opens again after the window", async () => {
    let now = 5_000_000;
    stack = await startStack({ limits: { familyRates: { identity: { max: 2, windowMs: 30_000 } } }, now: () => now });
    const s = stack;
    expect((await s.call(`${LOGIN}/getLoginCode`, { code: s.code("busy-user") })).status).toBe(200);
    expect((await s.call(`${LOGIN}/getLoginCode`, { code: s.code("busy-user") })).status).toBe(200);
    const limited = await s.call(`${LOGIN}/getLoginCode`, { code: s.code("busy-user") });
    expect(limited.status).toBe(429);
    expect(limited.body.error.code).toBe("RATE_LIMITED");
    expect(limited.headers.get("retry-after")).toBe("30");
    // Another identity is not affected.
    expect((await s.call(`${LOGIN}/getLoginCode`, { code: s.code("calm-user") })).status).toBe(200);
    now += 30_000;
    expect((await s.call(`${LOGIN}/getLoginCode`, { code: s.code("busy-user") })).status).toBe(200);
  });
});
