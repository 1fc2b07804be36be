import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createExchangeOnce,
  createWeChatClient,
  getSharedExchange,
  resetSharedExchanges,
  type WeChatClient,
} from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { ManualClock } from "../runtime/clock.ts";
import { WeChatApiError, WeChatRequestError } from "../runtime/errors/index.ts";
import { hashToken } from "../runtime/security/tokens.ts";

const APP = { appId: "wx-exchange-test", appSecret: "exchange-secret-abcdef" };

describe("exactly-once code2Session", () => {
  let fake: FakeWeChatServer;
  let clock: ManualClock;
  let exchange: ReturnType<typeof createExchangeOnce>;
  const calls = () => fake.stats().jscode2session;

  beforeAll(async () => {
    fake = await startFakeWeChatServer({ apps: [APP] });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    clock = new ManualClock();
    exchange = createExchangeOnce(createWeChatClient({ ...APP, apiBase: fake.url, timeoutMs: 2000 }), { clock });
  });

  it("50 concurrent calls with one code make ONE request and all get the same session", async () => {
    const code = fake.mintCode({ appId: APP.appId, openId: "o-fifty" });
    const before = calls();
    const sessions = await Promise.all(Array.from({ length: 50 }, () => exchange.code2Session(code)));
    expect(calls() - before).toBe(1);
    expect(new Set(sessions.map((s) => s.openId))).toEqual(new Set(["o-fifty"]));
    expect(new Set(sessions.map((s) => s.sessionKey)).size).toBe(1);
  });

  it("without the wrapper the second exchange of a code is 40163 (why the wrapper exists)", async () => {
    const raw = createWeChatClient({ ...APP, apiBase: fake.url });
    const code = fake.mintCode({ appId: APP.appId, openId: "o-raw" });
    await raw.code2Session(code);
    await expect(raw.code2Session(code)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
  });

  it("a repeat after completion returns the same outcome without a new request", async () => {
    const code = fake.mintCode({ appId: APP.appId, openId: "o-repeat" });
    const first = await exchange.code2Session(code);
    const before = calls();
    clock.advance(299_000);
    expect(await exchange.code2Session(code)).toEqual(first);
    expect(calls()).toBe(before);
  });

  it("a WeChat-answered error is cached too (no second request)", async () => {
    const code = "never-minted-code-xyz";
    const before = calls();
    const first = await exchange.code2Session(code).catch((e: unknown) => e);
    const second = await exchange.code2Session(code).catch((e: unknown) => e);
    expect(first).toBeInstanceOf(WeChatApiError);
    expect(second).toBe(first);
    expect(calls() - before).toBe(1);
  });

  it("after the ttl the entry is gone and WeChat is asked again", async () => {
    const code = fake.mintCode({ appId: APP.appId, openId: "o-ttl" });
    await exchange.code2Session(code);
    clock.advance(300_000);
    const before = calls();
    await expect(exchange.code2Session(code)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    expect(calls() - before).toBe(1);
  });

  it("WECHAT_UNAVAILABLE is not cached: the caller may retry", async () => {
    const code = fake.mintCode({ appId: APP.appId, openId: "o-retry" });
    fake.script({ code, status: 502, rawBody: "bad gateway" });
    await expect(exchange.code2Session(code)).rejects.toMatchObject({ code: "WECHAT_UNAVAILABLE" });
    expect((await exchange.code2Session(code)).openId).toBe("o-retry");
  });

  it("a request that never got an answer (timeout) is not cached either", async () => {
    const slow = createExchangeOnce(createWeChatClient({ ...APP, apiBase: fake.url, timeoutMs: 100 }), { clock });
    const code = fake.mintCode({ appId: APP.appId, openId: "o-slow" });
    fake.script({ code, errcode: -1, delayMs: 1000 });
    const err = await slow.code2Session(code).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(WeChatRequestError);
    expect(slow.size()).toBe(0);
  });

  it("keys the cache by the code's hash and bounds its size", async () => {
    // A stub client: the bound is about the cache, not HTTP.
    let n = 0;
    const stub: WeChatClient = { code2Session: async (c) => ({ openId: `o-${c}-${++n}`, unionId: null, sessionKey: "k" }) };
    const small = createExchangeOnce(stub, { clock, maxEntries: 3 });
    for (const c of ["a", "b", "c", "d"]) await small.code2Session(c);
    expect(small.size()).toBe(3);
    expect((await small.code2Session("a")).openId).toBe("o-a-5"); // evicted oldest: asked again
    expect((await small.code2Session("d")).openId).toBe("o-d-4");
    expect(hashToken("a")).toMatch(/^[0-9a-f]{64}$/);
  });

  it("getSharedExchange gives one exchange per (apiBase, appId) in the process", async () => {
    resetSharedExchanges();
    const a = getSharedExchange({ ...APP, apiBase: fake.url, clock });
    const b = getSharedExchange({ ...APP, apiBase: `${fake.url}/`, clock });
    const other = getSharedExchange({ ...APP, appId: "wx-other", apiBase: fake.url, clock });
    expect(b).toBe(a);
    expect(other).not.toBe(a);
    const code = fake.mintCode({ appId: APP.appId, openId: "o-shared" });
    const before = calls();
    const [x, y] = await Promise.all([a.code2Session(code), b.code2Session(code)]);
    expect(x).toEqual(y);
    expect(calls() - before).toBe(1);
    resetSharedExchanges();
  });
});
