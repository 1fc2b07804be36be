import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import vm from "node:vm";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { JitApiError, JitClientError, createClient, createWxShim, type ClientOptions, type Step } from "../runtime/miniprogram/index.ts";
import { buildWeapp } from "../scripts/consoleBuild.ts";
import { AUTH, DEMO_APPID, DEMO_SECRET, TEST_MASTER_KEY, makeTempRoot, post, removeDir } from "./helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";

const LOGIN_ELEMENT = "auths.loginTypes.myWeChatMiniLogin";
const AUTH_SVC = "auths.loginTypes.services.AuthSvc";

// The mini-program client library against a real `jit serve` child: the wx shim's request is
// real HTTP, its login mints codes at the fake WeChat server over HTTP.
describe("mini-program client library", () => {
  let root: string;
  let fake: FakeWeChatServer;
  let child: Child;
  let base: string;

  beforeAll(async () => {
    root = await makeTempRoot();
    fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", path.join(root, "data", "client.sqlite")], {
      WECHAT_API_BASE: fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_RATE_LIMIT_IP: "off",
      JIT_LOG_LEVEL: "warn",
    });
    base = (await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
  });
  afterAll(async () => {
    child?.kill();
    await child?.exited;
    await fake?.close();
    await removeDir(root);
  });

  function client(openId: string, extra: Partial<ClientOptions> = {}) {
    const steps: Step[] = [];
    const mintCode = async () => {
      const res = await fetch(`${fake.url}/__fake/codes`, { method: "POST", body: JSON.stringify({ appId: DEMO_APPID, openId }) });
      return ((await res.json()) as { code: string }).code;
    };
    const wx = createWxShim({ mintCode });
    const c = createClient({ baseUrl: base, appId: "demo", loginElement: LOGIN_ELEMENT, wx, onStep: (s) => steps.push(s), ...extra });
    return { c, wx, steps };
  }

  it("logs a new WeChat user in (register on the way), keeps the token in storage, and calls with it", async () => {
    const { c, wx, steps } = client(`client-new-${Date.now()}`);
    const session = await c.login();
    expect(session).toMatchObject({ token: expect.any(String), userId: expect.any(Number), corpId: "demo-corp" });
    expect(wx.storage.get("jit-runtime.session")).toEqual(session);
    // register answers a login code: one wx.login for the whole first login.
    expect(steps.map((s) => s.name)).toEqual(["wx.login", "getLoginCode", "register", "loginByCode"]);
    const me = await c.call<{ userId: number }>(AUTH_SVC, "getCurrentUser");
    expect(me.userId).toBe(session.userId);

    // A second login of the same WeChat user: no registration.
    steps.length = 0;
    c.clear();
    const second = await c.login();
    expect(second.userId).toBe(session.userId);
    expect(steps.map((s) => s.name)).toEqual(["wx.login", "getLoginCode", "loginByCode"]);
  });

  it("logs in again once on 401 TOKEN_INVALID and retries the call", async () => {
    const { c, steps } = client(`client-relogin-${Date.now()}`);
    const first = await c.login();
    // The session ends on the server (logout with the token, behind the client's back).
    expect((await post(base, `${AUTH}/logout`, undefined, { token: first.token })).status).toBe(200);
    steps.length = 0;
    const [a, b] = await Promise.all([c.call<{ userId: number }>(AUTH_SVC, "getCurrentUser"), c.call<{ userId: number }>(AUTH_SVC, "getCurrentUser")]);
    expect(a.userId).toBe(first.userId);
    expect(b.userId).toBe(first.userId);
    // Two calls refused with TOKEN_INVALID share one login, then both retry with the new token.
    const refused = steps.filter((s) => s.name === "call" && !s.ok);
    expect(refused).toHaveLength(2);
    expect(refused.every((s) => (s.response as { body: { error: { code: string } } }).body.error.code === "TOKEN_INVALID")).toBe(true);
    expect(steps.filter((s) => s.name === "loginByCode")).toHaveLength(1);
    expect(c.session()!.token).not.toBe(first.token);
  });

  it("does not loop: a 401 after the re-login is thrown", async () => {
    const { c, wx } = client(`client-loop-${Date.now()}`);
    await c.login();
    // A server that refuses every token: the retry's 401 reaches the caller as a typed error.
    const request = wx.request;
    let calls = 0;
    wx.request = (options) => {
      if (options.url.endsWith("/getCurrentUser")) {
        calls += 1;
        return options.success({ statusCode: 401, data: { error: { code: "TOKEN_INVALID", message: "no", requestId: "r1" } } });
      }
      return request(options);
    };
    const err = await c.call(AUTH_SVC, "getCurrentUser").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JitApiError);
    expect((err as JitApiError).code).toBe("TOKEN_INVALID");
    expect(calls).toBe(2);
  });

  it("surfaces the server's registered codes as JitApiError with status and request id", async () => {
    const { c } = client(`client-err-${Date.now()}`);
    const session = await c.login();
    const err = await c.call(LOGIN_ELEMENT, "unbind", { userId: session.userId + 1000 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JitApiError);
    expect(err).toMatchObject({ code: "FORBIDDEN", status: 403, requestId: expect.any(String) });
    // A logged-in user binds again: already bound in this mini program.
    expect(await c.bind().catch((e: unknown) => e)).toMatchObject({ code: "ALREADY_BOUND", status: 409 });
    const unbound = await c.unbind();
    expect(unbound).toMatchObject({ success: true });
    // The server ended the identity's sessions; the client forgot its own and does not log in by itself.
    expect(c.session()).toBeNull();
    expect(await c.unbind().catch((e: unknown) => e)).toMatchObject({ name: "JitClientError", code: "NOT_LOGGED_IN" });
    // The next login of the unbound WeChat user registers a new user.
    const next = await c.login();
    expect(next.userId).not.toBe(session.userId);
  });

  it("refuses to register when created with register: false, and reports network failures", async () => {
    const { c } = client(`client-noreg-${Date.now()}`, { register: false });
    const err = await c.login().catch((e: unknown) => e);
    expect(err).toBeInstanceOf(JitClientError);
    expect((err as JitClientError).code).toBe("REGISTRATION_OFF");
    const { c: offline } = client("x", { baseUrl: "http://127.0.0.1:9", timeoutMs: 2000 });
    const net = await offline.call(AUTH_SVC, "getCurrentUser").catch((e: unknown) => e);
    expect(net).toBeInstanceOf(JitClientError);
    expect((net as JitClientError).code).toBe("NETWORK_ERROR");
  });

  it("runs as the built CommonJS file with nothing but a global wx (what a mini program gives it)", async () => {
    const dir = await mkdtemp(path.join(os.tmpdir(), "jit-weapp-"));
    try {
      const source = await readFile(await buildWeapp(path.join(dir, "index.js")), "utf8");
      const openId = `client-weapp-${Date.now()}`;
      const { wx } = client(openId);
      // No require, process, fetch, Buffer or globalThis.wx lookups to lean on: only wx.
      const sandbox: Record<string, unknown> = { wx, module: { exports: {} } };
      sandbox.exports = (sandbox.module as { exports: object }).exports;
      vm.runInNewContext(source, sandbox, { filename: "miniprogram/index.js" });
      const lib = (sandbox.module as { exports: { createClient: typeof createClient; JitApiError: typeof JitApiError } }).exports;
      const c = lib.createClient({ baseUrl: base, appId: "demo", loginElement: LOGIN_ELEMENT });
      const session = await c.login();
      expect(wx.storage.get("jit-runtime.session")).toMatchObject({ userId: session.userId });
      expect(await c.call<{ userId: number }>(AUTH_SVC, "getCurrentUser")).toMatchObject({ userId: session.userId });
      const err = await c.call(LOGIN_ELEMENT, "unbind", { userId: session.userId + 1 }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(lib.JitApiError);
      expect(err).toMatchObject({ code: "FORBIDDEN", status: 403 });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
