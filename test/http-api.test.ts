import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer } from "jit-runtime/testing";
import { AUTH, DEMO_APPID, DEMO_SECRET, LOGIN, TEST_MASTER_KEY, makeTempRoot, post, removeDir, startStack, type Stack } from "./helpers/http.ts";
import { JIT_BIN, startChild } from "./helpers/httpChild.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

// The HTTP API over a real socket: the seed's full flow, the envelope, request ids, routing.
describe("HTTP API: full login flow", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("walks getLoginCode → register → getLoginCode → loginByCode → getCurrentUser → unbind/bind → logout", async () => {
    const first = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("flow-user") });
    expect(first.status).toBe(200);
    expect(first.body.data).toEqual({ bindCode: expect.any(String), expiresIn: 300 });

    const reg = await stack.call(`${LOGIN}/register`, { bindCode: first.body.data.bindCode });
    expect(reg.status).toBe(200);
    // RowData serialises to the plain record.
    expect(reg.body.data.userId).toEqual(expect.any(Number));
    const userId = reg.body.data.userId as number;
    // register answers the new user's login code: straight to loginByCode.
    expect(reg.body.data).toMatchObject({ loginCode: expect.any(String), expiresIn: 300 });

    const session = await stack.call(`${AUTH}/loginByCode`, { loginCode: reg.body.data.loginCode });
    expect(session.status).toBe(200);
    expect(session.body.data).toMatchObject({ token: expect.any(String), userId, corpId: "demo-corp", expiresAt: expect.any(Number) });
    const token = session.body.data.token as string;

    const me = await stack.call(`${AUTH}/getCurrentUser`, undefined, { token });
    expect(me.status).toBe(200);
    expect(me.body.data).toMatchObject({ userId, corpId: "demo-corp" });

    // The next login: a fresh code gives a login code; a second session.
    const second = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("flow-user") });
    expect(second.status).toBe(200);
    expect(second.body.data).toMatchObject({ loginCode: expect.any(String), userId, corpList: [{ corpId: "demo-corp", corpName: "Demo Corp" }] });
    const token2 = (await stack.call(`${AUTH}/loginByCode`, { loginCode: second.body.data.loginCode })).body.data.token as string;

    const unbind = await stack.call(`${LOGIN}/unbind`, { userId }, { token });
    expect(unbind.status).toBe(200);
    expect(unbind.body).toEqual({ data: { success: true } });

    // After unbind the sessions opened through the identity are over, and the identity is
    // unregistered again.
    for (const ended of [token, token2]) {
      const refused = await stack.call(`${AUTH}/getCurrentUser`, undefined, { token: ended });
      expect(refused.status).toBe(401);
      expect(refused.body.error.code).toBe("TOKEN_INVALID");
    }
    const again = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("flow-user") });
    expect(again.body.data.bindCode).toEqual(expect.any(String));

    // Signed in some other way, the user binds the identity again.
    const elsewhere = await stack.signInElsewhere(userId);
    const bind = await stack.call(`${LOGIN}/bind`, { userId, code: stack.code("flow-user") }, { token: elsewhere });
    expect(bind.status).toBe(200);
    expect(bind.body.data).toMatchObject({ success: true, userId });

    const logout = await stack.call(`${AUTH}/logout`, {}, { token: elsewhere });
    expect(logout.status).toBe(200);
    const after = await stack.call(`${AUTH}/getCurrentUser`, undefined, { token: elsewhere });
    expect(after.status).toBe(401);
    expect(after.body.error.code).toBe("TOKEN_INVALID");
  });

  it("refuses with 403 a bind or unbind naming another user", async () => {
    const alice = await stack.register("alice");
    const bob = await stack.register("bob");
    const { token } = await stack.login("alice");
    const unbindBob = await stack.call(`${LOGIN}/unbind`, { userId: bob }, { token });
    expect(unbindBob.status).toBe(403);
    expect(unbindBob.body.error.code).toBe("FORBIDDEN");
    const bindBob = await stack.call(`${LOGIN}/bind`, { userId: bob, code: stack.code("mallory") }, { token });
    expect(bindBob.status).toBe(403);
    expect(bindBob.body.error.code).toBe("FORBIDDEN");
    // Bob is still bound: his login still works.
    expect((await stack.login("bob")).userId).toBe(bob);
    expect(alice).not.toBe(bob);
  });

  it("a repeated wx.login code of a registered user gets the same single-use login code (one session in all); it cannot bind anyone", async () => {
    await stack.register("replayed-user");
    const code = stack.code("replayed-user");
    const first = await stack.call(`${LOGIN}/getLoginCode`, { code });
    const replay = await stack.call(`${LOGIN}/getLoginCode`, { code });
    expect(first.status).toBe(200);
    expect(replay.status).toBe(200);
    expect(replay.body.data.loginCode).toBe(first.body.data.loginCode);
    const session = await stack.call(`${AUTH}/loginByCode`, { loginCode: first.body.data.loginCode });
    expect(session.status).toBe(200);
    const second = await stack.call(`${AUTH}/loginByCode`, { loginCode: replay.body.data.loginCode });
    expect(second.body.error.code).toBe("LOGIN_CODE_INVALID");

    // Someone else, logged in and bound to nothing, tries to bind the code's owner to their own account.
    const other = (await (await storeOf(stack.app)).createUser({ name: "replay-other" }, stack.app.clock.now())).userId;
    const token = await stack.signInElsewhere(other);
    const stolen = await stack.call(`${LOGIN}/bind`, { userId: other, code }, { token });
    expect(stolen.status).toBe(400);
    expect(stolen.body.error.code).toBe("WECHAT_CODE_USED");
    expect(stolen.text).not.toContain(code);
  });

  it("answers /healthz and puts a request id on every response", async () => {
    const res = await fetch(`${stack.base}/healthz`);
    expect(res.status).toBe(200);
    expect(await res.json()).toEqual({ status: "ok" });
    expect(res.headers.get("x-request-id")).toMatch(/^[0-9a-f-]{36}$/);

    // No proxy is trusted here: a client's own id is not used (see http-headers.test.ts).
    const forged = await stack.call(`${LOGIN}/nope`, {}, { headers: { "x-request-id": "client-req-42" } });
    const id = forged.headers.get("x-request-id")!;
    expect(id).toMatch(/^[0-9a-f-]{36}$/);
    expect(forged.body.error.requestId).toBe(id);
    // Every log line of that request carries its id.
    const lines = stack.logs().split("\n").filter((l) => l.includes(id));
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(JSON.parse(line).reqId).toBe(id);
    expect(stack.logs()).not.toContain("client-req-42");
    const done = lines.map((l) => JSON.parse(l)).find((l) => l.msg === "request completed");
    expect(done).toMatchObject({ req: { method: "POST", url: `${LOGIN}/nope` }, res: { statusCode: 404 }, responseTime: expect.any(Number) });
    // A failed call logs through the request's own logger too (made on first use): same id.
    const bad = await stack.call(`${LOGIN}/getLoginCode`, { code: 42 });
    expect(bad.status).toBe(400);
    const badId = bad.headers.get("x-request-id")!;
    const badLines = stack.logs().split("\n").filter((l) => l.includes(badId)).map((l) => JSON.parse(l));
    expect(badLines.map((l) => [l.msg, l.reqId])).toEqual(
      expect.arrayContaining([["request failed", badId], ["request completed", badId]]),
    );
  });

  it("routes only declared functions of the app's elements", async () => {
    const fn = await stack.call(`${LOGIN}/getLoginConfig`, {});
    expect(fn.status).toBe(404);
    expect(fn.body.error.code).toBe("FUNCTION_NOT_FOUND");
    const el = await stack.call(`/api/demo/auths/loginTypes/nobody/getLoginCode`, { code: "x" });
    expect(el.status).toBe(404);
    expect(el.body.error.code).toBe("ELEMENT_NOT_FOUND");
    // Types and Metas are not callable, only instances.
    const type = await stack.call(`/api/demo/auths/loginTypes/WeChatMiniType/getLoginCode`, { code: "x" });
    expect(type.body.error.code).toBe("ELEMENT_NOT_FOUND");
    const app = await stack.call(`/api/other/auths/loginTypes/myWeChatMiniLogin/getLoginCode`, { code: "x" });
    expect(app.status).toBe(404);
    expect(app.body.error.code).toBe("ROUTE_NOT_FOUND");
    const get = await fetch(`${stack.base}${LOGIN}/getLoginCode?code=secret-in-query`);
    expect(get.status).toBe(404);
    const body = await get.text();
    expect(JSON.parse(body).error.code).toBe("ROUTE_NOT_FOUND");
    expect(body).not.toContain("secret-in-query");
    expect(stack.logs()).not.toContain("secret-in-query");
  });
});

// The same flow against the real `jit serve` command (a child process), as deployed.
describe("jit serve (the CLI command)", () => {
  it("serves the full flow and prints one line with its URL", async () => {
    const fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    const root = await makeTempRoot();
    const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", `${root}/data/cli.sqlite`], {
      WECHAT_API_BASE: fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
    });
    try {
      const [, base] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      expect(child.stdout().trim().split("\n")).toHaveLength(1);
      const code = () => fake.mintCode({ appId: DEMO_APPID, openId: "cli-user" });
      const registering = code();
      const first = await post(base!, `${LOGIN}/getLoginCode`, { code: registering });
      const reg = await post(base!, `${LOGIN}/register`, { bindCode: first.body.data.bindCode });
      const userId = reg.body.data.userId;
      expect((await post(base!, `${LOGIN}/getLoginCode`, { code: registering })).body.error.code).toBe("WECHAT_CODE_USED");
      const session = await post(base!, `${AUTH}/loginByCode`, { loginCode: reg.body.data.loginCode });
      expect(session.body.data.userId).toBe(userId);
      const token = session.body.data.token;
      expect((await post(base!, `${LOGIN}/unbind`, { userId: userId + 1 }, { token })).status).toBe(403);
      expect((await post(base!, `${LOGIN}/unbind`, { userId }, { token })).body).toEqual({ data: { success: true } });
      // The session opened through the unbound identity is over.
      expect((await post(base!, `${AUTH}/getCurrentUser`, undefined, { token })).status).toBe(401);
      child.kill("SIGTERM");
      expect(await child.exited).toEqual({ code: 0, signal: null });
      // Logs are JSON lines on stderr, none carrying the token.
      const lines = child.stderr().trim().split("\n").filter((l) => l.startsWith("{"));
      expect(lines.length).toBeGreaterThan(5);
      expect(child.stderr()).not.toContain(token);
    } finally {
      child.kill("SIGKILL");
      await fake.close();
      await removeDir(root);
    }
  });
});
