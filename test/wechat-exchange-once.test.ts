import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createExchangeOnce,
  createWeChatClient,
  getSharedExchange,
  resetSharedExchanges,
} from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { ManualClock } from "../runtime/clock.ts";

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
    exchange = createExchangeOnce(createWeChatClient({ ...APP, apiBase: fake.url, timeoutMs: 2000 }));
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

  it("keeps nothing once WeChat answered: a later repeat asks WeChat (the code ledger in the store remembers outcomes)", async () => {
    const code = fake.mintCode({ appId: APP.appId, openId: "o-repeat" });
    await exchange.code2Session(code);
    const before = calls();
    await expect(exchange.code2Session(code)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    expect(calls() - before).toBe(1);
  });

  it("WECHAT_UNAVAILABLE leaves nothing behind: the caller may retry", async () => {
    const code = fake.mintCode({ appId: APP.appId, openId: "o-retry" });
    fake.script({ code, status: 502, rawBody: "bad gateway" });
    await expect(exchange.code2Session(code)).rejects.toMatchObject({ code: "WECHAT_UNAVAILABLE" });
    expect((await exchange.code2Session(code)).openId).toBe("o-retry");
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
