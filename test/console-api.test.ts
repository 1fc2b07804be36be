import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveAdminToken } from "../runtime/http/console/adminToken.ts";
import { CONSOLE_CSP } from "../runtime/http/console/index.ts";
import { buildConsole } from "../scripts/consoleBuild.ts";
import path from "node:path";
import { AUTH, DEMO_APPID, LOGIN, TEST_MASTER_KEY, makeTempRoot, readReply, removeDir, startStack, type Stack } from "./helpers/http.ts";
import { JIT_BIN, startChild } from "./helpers/httpChild.ts";

const TOKEN = "console-test-admin-token-0123456789";

async function get(stack: Stack, url: string, token: string | null = TOKEN, headers: Record<string, string> = {}) {
  return readReply(await fetch(`${stack.base}${url}`, { headers: { ...(token !== null ? { authorization: `Bearer ${token}` } : {}), ...headers } }));
}

async function del(stack: Stack, url: string) {
  const res = await fetch(`${stack.base}${url}`, { method: "DELETE", headers: { authorization: `Bearer ${TOKEN}` } });
  return { status: res.status, body: (await res.json()) as any };
}

// The console's server half: the admin token, loopback only, CSP, the admin reads and
// actions (each logged with the request id, never with the token).
describe("console API", () => {
  let stack: Stack;
  let remote: Stack;
  beforeAll(async () => {
    await buildConsole();
    const adminToken = resolveAdminToken({ JIT_ADMIN_TOKEN: TOKEN });
    [stack, remote] = await Promise.all([
      startStack({ server: { console: { adminToken } } }),
      // Behind a trusted proxy that names a non-loopback client.
      startStack({ server: { console: { adminToken } }, trustProxy: true }),
    ]);
  });
  afterAll(async () => {
    await Promise.all([stack?.close(), remote?.close()]);
  });

  it("keeps only a hash of the admin token and generates one when none is configured", () => {
    const generated = resolveAdminToken({});
    const token = generated.takeGenerated()!;
    expect(token).toMatch(/^[A-Za-z0-9_-]{43}$/);
    expect(generated.takeGenerated()).toBeNull(); // handed out once
    expect(generated.verify(token)).toBe(true);
    expect(generated.verify(`${token}x`)).toBe(false);
    const configured = resolveAdminToken({ JIT_ADMIN_TOKEN: TOKEN });
    expect(configured.takeGenerated()).toBeNull();
    expect(configured.verify(TOKEN)).toBe(true);
    expect(() => resolveAdminToken({ JIT_ADMIN_TOKEN: "short" })).toThrow(/JIT_ADMIN_TOKEN/);
  });

  it("refuses a missing or wrong admin token with ADMIN_TOKEN_INVALID, and logs the refusal without the token", async () => {
    for (const token of [null, "wrong-token-but-long-enough", `${TOKEN}0`]) {
      const res = await get(stack, "/console/api/users", token);
      expect(res.status).toBe(401);
      expect(res.body.error.code).toBe("ADMIN_TOKEN_INVALID");
    }
    expect(stack.logs()).toContain("console: admin token missing or wrong");
    expect(stack.logs()).not.toContain("wrong-token-but-long-enough");
  });

  it("serves the page and assets without inline script under a strict CSP", async () => {
    const page = await get(stack, "/console/", null);
    expect(page.status).toBe(200);
    expect(page.headers.get("content-security-policy")).toBe(CONSOLE_CSP);
    expect(CONSOLE_CSP).toContain("script-src 'self'");
    expect(CONSOLE_CSP).toContain("frame-ancestors 'none'");
    expect(page.text).not.toMatch(/<script(?![^>]*\bsrc=)[^>]*>/); // every script is a file
    expect(page.text).not.toMatch(/\sstyle=|<style/);
    expect(page.text).not.toMatch(/https?:\/\//);
    const js = await get(stack, "/console/assets/app.js", null);
    expect(js.status).toBe(200);
    expect(js.headers.get("content-type")).toContain("text/javascript");
    expect((await get(stack, "/console/assets/other.js", null)).status).toBe(404);
  });

  it("answers only loopback clients unless told otherwise", async () => {
    const res = await get(remote, "/console/api/users", TOKEN, { "x-forwarded-for": "203.0.113.9" });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("CONSOLE_FORBIDDEN");
    expect((await get(remote, "/console/api/users", TOKEN, { "x-forwarded-for": "127.0.0.1" })).status).toBe(200);
  });

  it("lists the element tree with chains, layers, masked config and functions", async () => {
    const res = await get(stack, "/console/api/elements");
    expect(res.status).toBe(200);
    const login = res.body.elements.find((e: { fullName: string }) => e.fullName === "auths.loginTypes.myWeChatMiniLogin");
    expect(login).toMatchObject({ kind: "instance", layer: "demo", served: true });
    expect(login.chain.map((c: { fullName: string }) => c.fullName)).toEqual(["auths.loginTypes.myWeChatMiniLogin", "auths.loginTypes.WeChatMiniType", "auths.loginTypes.Meta"]);
    expect(login.functionList.map((f: { name: string }) => f.name)).toContain("getLoginCode");
    expect(JSON.stringify(login.config)).not.toContain("demo-secret-for-the-fake-wechat-server");
    expect(res.text).not.toContain("demo-secret-for-the-fake-wechat-server");
  });

  it("pages and searches users with bindings, ends a session and unbinds, each logged with the request id", async () => {
    const userId = await stack.register("console-user-a");
    const { token } = await stack.login("console-user-a");
    const byOpenId = await get(stack, "/console/api/users?search=console-user-a");
    expect(byOpenId.body.total).toBe(1);
    expect(byOpenId.body.users[0]).toMatchObject({ user: { userId }, bindings: [{ appId: DEMO_APPID, openId: "console-user-a" }] });
    expect((await get(stack, `/console/api/users?search=${userId}`)).body.users[0].user.userId).toBe(userId);
    // A phone number stored by getPhoneNumber shows on the user.
    const phoneCode = stack.fake.mintPhoneCode({ appId: DEMO_APPID, purePhoneNumber: "13700137000" });
    expect((await stack.call("/api/demo/auths/loginTypes/myWeChatMiniLogin/getPhoneNumber", { code: phoneCode }, { token })).status).toBe(200);
    expect((await get(stack, `/console/api/users?search=${userId}`)).body.users[0].user.phone).toBe("+8613700137000");
    expect((await get(stack, "/console/api/users?limit=1")).body.users).toHaveLength(1);
    expect((await get(stack, "/console/api/users?limit=x")).body.error.code).toBe("API_PARAMS_ERROR");

    const sessions = (await get(stack, `/console/api/users/${userId}/sessions`)).body.sessions as { sessionId: string }[];
    expect(sessions.length).toBeGreaterThanOrEqual(1);
    expect(JSON.stringify(sessions)).not.toContain(token);
    for (const s of sessions) {
      const ended = await del(stack, `/console/api/users/${userId}/sessions/${s.sessionId}`);
      expect(ended).toEqual({ status: 200, body: { ended: true } });
    }
    expect((await stack.call(`${AUTH}/getCurrentUser`, undefined, { token })).body.error.code).toBe("TOKEN_INVALID");

    const unbound = await del(stack, `/console/api/users/${userId}/bindings/${DEMO_APPID}`);
    expect(unbound).toEqual({ status: 200, body: { unbound: true } });
    expect((await del(stack, `/console/api/users/${userId}/bindings/${DEMO_APPID}`)).body.error.code).toBe("NOT_BOUND");
    // The next login of that WeChat user starts afresh: a bind code, not the old user.
    const next = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("console-user-a") });
    expect(next.body.data.bindCode).toEqual(expect.any(String));

    const lines = stack.logs().split("\n").filter((l) => l.includes('"admin":"unbind"') || l.includes('"admin":"end session"'));
    expect(lines.length).toBeGreaterThanOrEqual(2);
    for (const line of lines) expect(JSON.parse(line).reqId).toEqual(expect.any(String));
    expect(stack.logs()).not.toContain(TOKEN);
  });

  it("mints simulator codes at the fake WeChat server only, for the app's own login elements", async () => {
    const res = await fetch(`${stack.base}/console/api/simulator/code`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ loginElement: "auths.loginTypes.myWeChatMiniLogin", openId: "sim-user-1" }),
    });
    const body = (await res.json()) as { code: string };
    expect(res.status).toBe(200);
    const first = await stack.call(`${LOGIN}/getLoginCode`, { code: body.code });
    expect(first.body.data.bindCode).toEqual(expect.any(String));
    const other = await fetch(`${stack.base}/console/api/simulator/code`, {
      method: "POST",
      headers: { authorization: `Bearer ${TOKEN}`, "content-type": "application/json" },
      body: JSON.stringify({ loginElement: "auths.loginTypes.nothing", openId: "sim-user-1" }),
    });
    expect(other.status).toBe(404);
    await other.text();
  });

  it("is not there unless asked", async () => {
    const plain = await startStack();
    try {
      expect((await get(plain, "/console/api/users")).status).toBe(404);
      expect((await get(plain, "/console/", null)).status).toBe(404);
    } finally {
      await plain.close();
    }
  });

  it("jit serve --console without JIT_ADMIN_TOKEN prints a generated token once, on stdout only, and it opens the API", async () => {
    const root = await makeTempRoot();
    const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--console", "--db", path.join(root, "data", "token.sqlite")], {
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_ADMIN_TOKEN: undefined,
      JIT_LOG_LEVEL: "info",
    });
    try {
      const [, url, token] = await child.waitFor(/console at (http:\/\/127\.0\.0\.1:\d+)\/console\/#token=([A-Za-z0-9_-]{43}) /);
      const ok = await fetch(`${url}/console/api/overview`, { headers: { authorization: `Bearer ${token}` } });
      expect(ok.status).toBe(200);
      expect(((await ok.json()) as { appId: string }).appId).toBe("demo");
      const refused = await fetch(`${url}/console/api/overview`, { headers: { authorization: "Bearer wrong-wrong-wrong-wrong" } });
      expect(refused.status).toBe(401);
      await refused.text();
      expect(child.stdout().split(token!).length - 1).toBe(1);
      expect(child.stderr()).not.toContain(token!);
    } finally {
      child.kill();
      await child.exited;
      await removeDir(root);
    }
  });
});
