import net from "node:net";
import { afterAll, beforeAll, beforeEach, describe, expect, it } from "vitest";
import {
  createWeChatClient,
  type WeChatClient,
} from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { ConfigError } from "../runtime/errors/index.ts";
import { describeWeChatClientContract, expectNoSecret } from "./wechat-client.contract.ts";
import { WeChatApiError, WeChatError, WeChatRequestError, WeChatResponseError } from "../elements/auths/loginTypes/WeChatMiniType/wechat/errors.ts";

const APP = { appId: "wx-client-test", appSecret: "s3cr3t-app-secret-client-test" };

describeWeChatClientContract("the fake WeChat server", async () => {
  const fake = await startFakeWeChatServer({ apps: [APP] });
  return {
    ...APP,
    makeClient: ({ appId, appSecret }) => createWeChatClient({ appId, appSecret, apiBase: fake.url, timeoutMs: 2000 }),
    mintCode: ({ openId, unionId }) => fake.mintCode({ appId: APP.appId, openId, unionId }),
    close: () => fake.close(),
  };
});

async function failure(promise: Promise<unknown>): Promise<WeChatError> {
  try {
    await promise;
  } catch (err) {
    return err as WeChatError;
  }
  throw new Error("expected a failure");
}

describe("WeChat client against scripted misbehaviour", () => {
  let fake: FakeWeChatServer;
  let client: WeChatClient;
  const mint = () => fake.mintCode({ appId: APP.appId, openId: "o-script", unionId: "u-script" });

  beforeAll(async () => {
    fake = await startFakeWeChatServer({ apps: [APP] });
  });
  afterAll(async () => {
    await fake.close();
  });
  beforeEach(() => {
    client = createWeChatClient({ ...APP, apiBase: fake.url, timeoutMs: 2000 });
  });

  const errcodes: Array<[number, string]> = [
    [40029, "WECHAT_CODE_INVALID"],
    [40163, "WECHAT_CODE_USED"],
    [45011, "WECHAT_RATE_LIMITED"],
    [40226, "WECHAT_USER_BLOCKED"],
    [-1, "WECHAT_BUSY"],
    [40013, "WECHAT_BAD_CREDENTIALS"],
    [40125, "WECHAT_BAD_CREDENTIALS"],
    [41002, "WECHAT_BAD_CREDENTIALS"],
    [41004, "WECHAT_BAD_CREDENTIALS"],
    [41008, "WECHAT_ERROR"],
    [99999, "WECHAT_ERROR"],
  ];
  for (const [errcode, code] of errcodes) {
    it(`errcode ${errcode} in an HTTP 200 body → ${code}`, async () => {
      const jsCode = mint();
      fake.script({ code: jsCode, errcode, errmsg: "scripted" });
      const err = await failure(client.code2Session(jsCode));
      expect(err).toBeInstanceOf(WeChatApiError);
      expect(err.code).toBe(code);
      expect(err.errcode).toBe(errcode);
      expect(err.rid).toBeTruthy();
      expect(err.message).toContain(`rid: ${err.rid}`);
      expectNoSecret(err, [APP.appSecret, jsCode]);
    });
  }

  it("normalises a string errcode", async () => {
    const jsCode = mint();
    fake.script({ code: jsCode, errcode: "40029" });
    const err = await failure(client.code2Session(jsCode));
    expect(err).toBeInstanceOf(WeChatApiError);
    expect(err.code).toBe("WECHAT_CODE_INVALID");
    expect(err.errcode).toBe(40029);
  });

  it("treats errcode 0 and \"0\" as success", async () => {
    const jsCode = mint();
    fake.script({ code: jsCode, extraFields: { errcode: "0", errmsg: "ok" } });
    expect((await client.code2Session(jsCode)).openId).toBe("o-script");
  });

  it("parses a JSON body served as text/plain", async () => {
    const jsCode = mint();
    fake.script({ code: jsCode, contentType: "text/plain" });
    expect((await client.code2Session(jsCode)).unionId).toBe("u-script");
    const bad = mint();
    fake.script({ code: bad, contentType: "text/plain", errcode: 40226 });
    expect((await failure(client.code2Session(bad))).code).toBe("WECHAT_USER_BLOCKED");
  });

  it("ignores unknown extra fields and keeps only the ones it uses", async () => {
    const jsCode = mint();
    fake.script({ code: jsCode, extraFields: { expires_in: 7200, __proto__pollution: { x: 1 }, nickname: "n" } });
    const session = await client.code2Session(jsCode);
    expect(Object.keys(session).sort()).toEqual(["openId", "sessionKey", "unionId"]);
  });

  const unreadable: Array<[string, Parameters<FakeWeChatServer["script"]>[0]]> = [
    ["HTTP 502", { status: 502, rawBody: "<html>bad gateway</html>", contentType: "text/html" }],
    ["HTTP 503 with a JSON errcode", { status: 503, errcode: -1 }],
    ["a non-JSON body", { rawBody: "<html>oops</html>", contentType: "text/html" }],
    ["a JSON array", { rawBody: "[1,2]" }],
    ["a body without session_key", { rawBody: JSON.stringify({ openid: "o-1" }) }],
    ["a non-numeric errcode", { rawBody: JSON.stringify({ errcode: "oops", errmsg: "x" }) }],
  ];
  for (const [what, rule] of unreadable) {
    it(`${what} → WeChatResponseError WECHAT_UNAVAILABLE`, async () => {
      const jsCode = mint();
      fake.script({ ...rule, code: jsCode });
      const before = fake.stats().jscode2session;
      const err = await failure(client.code2Session(jsCode));
      expect(err).toBeInstanceOf(WeChatResponseError);
      expect(err.code).toBe("WECHAT_UNAVAILABLE");
      expect(fake.stats().jscode2session - before).toBe(1);
      expectNoSecret(err, [APP.appSecret, jsCode]);
    });
  }

  it("a timeout → WECHAT_UNAVAILABLE after exactly one request (no retry)", async () => {
    const slow = createWeChatClient({ ...APP, apiBase: fake.url, timeoutMs: 100 });
    const jsCode = mint();
    fake.script({ code: jsCode, delayMs: 1500 });
    const before = fake.stats().jscode2session;
    const err = await failure(slow.code2Session(jsCode));
    expect(err).toBeInstanceOf(WeChatRequestError);
    expect(err.code).toBe("WECHAT_UNAVAILABLE");
    expect(err.message).toContain("timeout after 100 ms");
    expect(err.params.attempts).toBe(1);
    expect(fake.stats().jscode2session - before).toBe(1);
    expectNoSecret(err, [APP.appSecret, jsCode]);
  });

  it("a connection dropped without an answer → WECHAT_UNAVAILABLE, not retried", async () => {
    const jsCode = mint();
    fake.script({ code: jsCode, drop: true });
    const before = fake.stats().jscode2session;
    const err = await failure(client.code2Session(jsCode));
    expect(err).toBeInstanceOf(WeChatRequestError);
    expect(err.code).toBe("WECHAT_UNAVAILABLE");
    expect(err.message).toContain("connection closed");
    expect(fake.stats().jscode2session - before).toBe(1);
    expectNoSecret(err, [APP.appSecret, jsCode]);
  });

  it("a refused connection is retried once, then WECHAT_UNAVAILABLE without secrets", async () => {
    // A port that was just free: nothing listens on it.
    const port = await new Promise<number>((resolve) => {
      const probe = net.createServer().listen(0, "127.0.0.1", () => {
        const { port: p } = probe.address() as net.AddressInfo;
        probe.close(() => resolve(p));
      });
    });
    const refused = createWeChatClient({ ...APP, apiBase: `http://127.0.0.1:${port}`, timeoutMs: 2000 });
    const err = await failure(refused.code2Session("the-js-code-123456"));
    expect(err).toBeInstanceOf(WeChatRequestError);
    expect(err.code).toBe("WECHAT_UNAVAILABLE");
    expect(err.message).toBe("WeChat could not be reached or gave an unreadable answer: connection refused (2 attempts)");
    expect(err.params.attempts).toBe(2);
    expectNoSecret(err, [APP.appSecret, "the-js-code-123456", "secret="]);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: "WECHAT_UNAVAILABLE", message: err.message });
  });

  it("resolves the base URL: option, then WECHAT_API_BASE, and rejects a bad one", async () => {
    const viaEnv = createWeChatClient({ ...APP, env: { WECHAT_API_BASE: `${fake.url}/` } });
    expect((await viaEnv.code2Session(mint())).openId).toBe("o-script");
    expect(() => createWeChatClient({ ...APP, apiBase: "not a url" })).toThrow(ConfigError);
    expect(() => createWeChatClient({ ...APP, appSecret: "" })).toThrow(ConfigError);
  });
});
