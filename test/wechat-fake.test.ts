import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { sessionSignature } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import { ManualClock } from "../runtime/clock.ts";
import { ConfigError } from "../runtime/errors/index.ts";

const APP = { appId: "wx-fake-test", appSecret: "fake-test-secret-123" };

describe("fake WeChat server over HTTP", () => {
  let fake: FakeWeChatServer;
  const clock = new ManualClock();

  async function jscode2session(params: Record<string, string>): Promise<{ status: number; type: string | null; text: string; json: () => Record<string, unknown> }> {
    const res = await fetch(`${fake.url}/sns/jscode2session?${new URLSearchParams({ grant_type: "authorization_code", ...params })}`);
    const text = await res.text();
    return { status: res.status, type: res.headers.get("content-type"), text, json: () => JSON.parse(text) as Record<string, unknown> };
  }
  const full = (code: string) => ({ appid: APP.appId, secret: APP.appSecret, js_code: code });

  beforeAll(async () => {
    fake = await startFakeWeChatServer({ apps: [APP], clock });
  });
  afterAll(async () => {
    await fake.close();
  });

  it("listens on 127.0.0.1 with a random port and refuses other hosts by default", async () => {
    expect(fake.url).toBe(`http://127.0.0.1:${fake.port}`);
    expect(fake.port).toBeGreaterThan(0);
    await expect(startFakeWeChatServer({ host: "0.0.0.0" })).rejects.toBeInstanceOf(ConfigError);
  });

  it("exchanges a minted code once, then answers 40163", async () => {
    const code = fake.mintCode({ appId: APP.appId, openId: "o-1", unionId: "u-1", sessionKey: "tiihtNczf5v6AKRyjwEUhQ==" });
    const first = await jscode2session(full(code));
    expect(first.status).toBe(200);
    expect(first.json()).toEqual({ openid: "o-1", session_key: "tiihtNczf5v6AKRyjwEUhQ==", unionid: "u-1" });
    const second = (await jscode2session(full(code))).json();
    expect(second.errcode).toBe(40163);
    expect(second.errmsg).toMatch(/^code been used, rid: [0-9a-f]{8}-[0-9a-f]{8}-[0-9a-f]{8}$/);
  });

  it("generates a 16-byte base64 session key and omits unionid when there is none", async () => {
    const body = (await jscode2session(full(fake.mintCode({ appId: APP.appId, openId: "o-2" })))).json();
    expect(Buffer.from(body.session_key as string, "base64")).toHaveLength(16);
    expect(body).not.toHaveProperty("unionid");
  });

  const checks: Array<[string, () => Record<string, string>, number]> = [
    ["missing appid", () => ({ secret: APP.appSecret, js_code: "x" }), 41002],
    ["unknown appid", () => ({ appid: "wx-nope", secret: APP.appSecret, js_code: "x" }), 40013],
    ["missing secret", () => ({ appid: APP.appId, js_code: "x" }), 41004],
    ["wrong secret", () => ({ appid: APP.appId, secret: "nope", js_code: "x" }), 40125],
    ["missing code", () => ({ appid: APP.appId, secret: APP.appSecret }), 41008],
    ["unknown code", () => full("unknown"), 40029],
    ["code of another app", () => full(fake.mintCode({ appId: "wx-elsewhere", openId: "o" })), 40029],
  ];
  for (const [what, params, errcode] of checks) {
    it(`${what} → HTTP 200 with errcode ${errcode}`, async () => {
      const res = await jscode2session(params());
      expect(res.status).toBe(200);
      expect(res.json().errcode).toBe(errcode);
      expect(res.text).not.toContain(APP.appSecret);
    });
  }

  it("codes expire after 5 minutes (injected clock)", async () => {
    const code = fake.mintCode({ appId: APP.appId, openId: "o-exp" });
    clock.advance(300_000);
    expect((await jscode2session(full(code))).json().errcode).toBe(40029);
  });

  it("scripts string errcodes, text/plain, raw bodies, statuses and extra fields, per code and times", async () => {
    const code = fake.mintCode({ appId: APP.appId, openId: "o-s" });
    fake.script({ code, errcode: "45011", contentType: "text/plain" });
    const limited = await jscode2session(full(code));
    expect(limited.type).toBe("text/plain");
    expect(limited.json().errcode).toBe("45011");
    fake.script({ rawBody: "<html>", status: 502, times: 2 });
    expect((await jscode2session(full(code))).status).toBe(502);
    expect((await jscode2session(full(code))).text).toBe("<html>");
    fake.script({ code, extraFields: { expires_in: 7200 } });
    expect((await jscode2session(full(code))).json()).toMatchObject({ openid: "o-s", expires_in: 7200 });
  });

  it("drops a connection without an answer when told to", async () => {
    fake.script({ drop: true });
    await expect(jscode2session(full("whatever"))).rejects.toThrow();
  });

  it("counts jscode2session requests and exposes the control API", async () => {
    const before = fake.stats().jscode2session;
    const minted = await fetch(`${fake.url}/__fake/codes`, { method: "POST", body: JSON.stringify({ appId: APP.appId, openId: "o-ctl", unionId: "u-ctl" }) });
    const { code } = (await minted.json()) as { code: string };
    expect(code).toMatch(/^[A-Za-z0-9_-]{32}$/);
    expect((await jscode2session(full(code))).json()).toMatchObject({ openid: "o-ctl", unionid: "u-ctl" });
    const stats = (await (await fetch(`${fake.url}/__fake/stats`)).json()) as { jscode2session: number };
    expect(stats.jscode2session).toBe(before + 1);
    expect(fake.stats().jscode2session).toBe(before + 1);
    const bad = await fetch(`${fake.url}/__fake/codes`, { method: "POST", body: "{}" });
    expect(bad.status).toBe(400);
  });

  it("answers 404 JSON on unknown paths (the path is case-sensitive)", async () => {
    const res = await fetch(`${fake.url}/sns/JSCODE2SESSION`);
    expect(res.status).toBe(404);
    expect(((await res.json()) as { errcode: number }).errcode).toBe(404);
  });

  it("stable_token + checksession: HMAC-SHA256 of the session key, 87009 when stale", async () => {
    const token = async (secret = APP.appSecret) =>
      (await (await fetch(`${fake.url}/cgi-bin/stable_token`, { method: "POST", body: JSON.stringify({ grant_type: "client_credential", appid: APP.appId, secret }) })).json()) as Record<string, unknown>;
    const t1 = await token();
    const t2 = await token();
    expect(t1.access_token).toBe(t2.access_token); // normal mode: the same token for every caller
    expect((await token("wrong")).errcode).toBe(40125);
    const check = async (openid: string, signature: string, accessToken = t1.access_token as string) =>
      ((await (await fetch(`${fake.url}/wxa/checksession?${new URLSearchParams({ access_token: accessToken, openid, signature, sig_method: "hmac_sha256" })}`)).json()) as { errcode: number }).errcode;
    const oldKey = "o0q0otL8aEzpcZL/FT9WsQ==";
    await jscode2session(full(fake.mintCode({ appId: APP.appId, openId: "o-chk", sessionKey: oldKey })));
    expect(await check("o-chk", sessionSignature(oldKey))).toBe(0);
    await jscode2session(full(fake.mintCode({ appId: APP.appId, openId: "o-chk" }))); // a newer key replaces it
    expect(await check("o-chk", sessionSignature(oldKey))).toBe(87009);
    expect(await check("o-chk", sessionSignature(oldKey), "bad-token")).toBe(40001);
  });

  it("issues the access tokens mintAccessToken makes: the same one until force_refresh, which takes the next", async () => {
    const minted: string[] = [];
    const own = await startFakeWeChatServer({ apps: [APP], mintAccessToken: (appId) => `known-token-${appId}-${minted.push(appId)}` });
    try {
      const token = async (force = false) =>
        (await (await fetch(`${own.url}/cgi-bin/stable_token`, { method: "POST", body: JSON.stringify({ grant_type: "client_credential", appid: APP.appId, secret: APP.appSecret, ...(force ? { force_refresh: true } : {}) }) })).json()) as Record<string, unknown>;
      expect((await token()).access_token).toBe(`known-token-${APP.appId}-1`);
      expect((await token()).access_token).toBe(`known-token-${APP.appId}-1`);
      expect((await token(true)).access_token).toBe(`known-token-${APP.appId}-2`);
      expect(minted).toEqual([APP.appId, APP.appId]);
      // The minted token is the one business calls accept (87009: a valid token, an unknown user).
      const check = await fetch(`${own.url}/wxa/checksession?${new URLSearchParams({ access_token: `known-token-${APP.appId}-2`, openid: "o-none", signature: "x", sig_method: "hmac_sha256" })}`);
      expect(((await check.json()) as { errcode: number }).errcode).toBe(87009);
    } finally {
      await own.close();
    }
  });

  it("answers 500 when mintAccessToken repeats a token (each must be new)", async () => {
    const own = await startFakeWeChatServer({ apps: [APP], mintAccessToken: () => "always-the-same" });
    try {
      const token = (force: boolean) => fetch(`${own.url}/cgi-bin/stable_token`, { method: "POST", body: JSON.stringify({ grant_type: "client_credential", appid: APP.appId, secret: APP.appSecret, force_refresh: force }) });
      expect((await token(false)).status).toBe(200);
      expect((await token(true)).status).toBe(500);
    } finally {
      await own.close();
    }
  });
});
