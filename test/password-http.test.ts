import { afterAll, beforeAll, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { AUTH, DEMO_APPID, DEMO_SECRET, LOGIN, makeTempRoot, post, removeDir, TEST_MASTER_KEY, type Reply } from "./helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";

const PASSWORD = "/api/demo/auths/loginTypes/myPasswordLogin";
// Seeded: every answer and every log line of the run is searched for them.
const SEED_PASSWORD = "Seeded-Pw-7f3a9c-do-not-leak";
const SEED_NEW_PASSWORD = "Seeded-New-Pw-41d2e8-do-not-leak";

// The joined flow over HTTP against `jit serve` (a child process) and the fake WeChat server:
// a password user binds WeChat and is found by it, and a WeChat user sets a password and logs
// in by it. The demo's password instance is given cheap scrypt parameters (N = 2^12) here.
describe("password login joined to WeChat, over jit serve", () => {
  let fake: FakeWeChatServer;
  let root: string;
  let child: Child;
  let base: string;
  const replies: Reply[] = [];
  const call = async (path: string, body?: unknown, token?: string) => {
    const reply = await post(base, path, body, token ? { token } : {});
    replies.push(reply);
    return reply;
  };
  const session = async (loginCode: string) => (await call(`${AUTH}/loginByCode`, { loginCode })).body.data as { token: string; userId: number };

  beforeAll(async () => {
    fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    root = await makeTempRoot({
      "apps/demo/elements/auths/loginTypes/myPasswordLogin/myPasswordLogin.json": JSON.stringify({
        authConfig: { registerCorpId: "demo-corp", registerCorpName: "Demo Corp", scrypt: { ln: 12, r: 8, p: 1 } },
      }),
    });
    child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", `${root}/data/pw.sqlite`], {
      WECHAT_API_BASE: fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "debug",
    });
    [, base] = (await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/)) as unknown as [string, string];
  });

  afterAll(async () => {
    child?.kill("SIGKILL");
    await fake?.close();
    if (root) await removeDir(root);
  });

  it("register by password → log in by password → bind WeChat → WeChat finds the same user and corpList", async () => {
    const reg = await call(`${PASSWORD}/register`, { username: "Pat", password: SEED_PASSWORD, name: "Pat" });
    expect(reg.status).toBe(200);
    const userId = reg.body.data.userId;
    expect(reg.body.data).toMatchObject({ name: "Pat", corpList: [{ corpId: "demo-corp", corpName: "Demo Corp" }], loginCode: expect.any(String), expiresIn: 300 });
    const taken = await call(`${PASSWORD}/register`, { username: "PAT", password: "something else entirely" });
    expect([taken.status, taken.body.error.code]).toEqual([409, "USERNAME_TAKEN"]);

    const login = await call(`${PASSWORD}/getLoginCode`, { username: "pat", password: SEED_PASSWORD });
    expect(login.body.data).toEqual({ loginCode: expect.any(String), corpList: [{ corpId: "demo-corp", corpName: "Demo Corp" }], userId, expiresIn: 300 });
    const { token } = await session(login.body.data.loginCode);

    // USER_AUTH_MISS's way out: with the password session, bind a fresh wx.login code.
    expect((await call(`${LOGIN}/bind`, { userId: userId + 1, code: fake.mintCode({ appId: DEMO_APPID, openId: "pat-wx" }) }, token)).status).toBe(403);
    const bound = await call(`${LOGIN}/bind`, { userId, code: fake.mintCode({ appId: DEMO_APPID, openId: "pat-wx" }) }, token);
    expect(bound.body.data).toMatchObject({ success: true, userId });
    const byWeChat = await call(`${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId: "pat-wx" }) });
    expect(byWeChat.body.data).toEqual({ loginCode: expect.any(String), corpList: login.body.data.corpList, userId, expiresIn: 300 });
    expect((await session(byWeChat.body.data.loginCode)).userId).toBe(userId);
  });

  it("a user created by WeChat register sets a password (bind) and logs in by it; unbind removes it", async () => {
    const first = await call(`${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId: "wen-wx" }) });
    const reg = await call(`${LOGIN}/register`, { bindCode: first.body.data.bindCode });
    const userId = reg.body.data.userId;
    const { token } = await session(reg.body.data.loginCode);
    expect((await call(`${PASSWORD}/bind`, { userId, username: "wen", password: "password1" }, token)).body.error.code).toBe("PASSWORD_TOO_WEAK");
    const set = await call(`${PASSWORD}/bind`, { userId, username: "wen", password: SEED_PASSWORD }, token);
    expect(set.body.data).toEqual({ success: true, userId, username: "wen" });
    const byPassword = await call(`${PASSWORD}/getLoginCode`, { username: "wen", password: SEED_PASSWORD });
    expect(byPassword.body.data).toEqual({ loginCode: expect.any(String), corpList: reg.body.data.corpList, userId, expiresIn: 300 });
    const pwSession = await session(byPassword.body.data.loginCode);

    // updatePassword over HTTP: the caller's session stays, the others end.
    const changed = await call(`${PASSWORD}/updatePassword`, { oldPassword: SEED_PASSWORD, newPassword: SEED_NEW_PASSWORD }, pwSession.token);
    expect(changed.body).toEqual({ data: { success: true } });
    expect((await call(`${AUTH}/getCurrentUser`, undefined, pwSession.token)).status).toBe(200);
    expect((await call(`${AUTH}/getCurrentUser`, undefined, token)).body.error.code).toBe("TOKEN_INVALID");
    const again = await session((await call(`${PASSWORD}/getLoginCode`, { username: "wen", password: SEED_NEW_PASSWORD })).body.data.loginCode);

    expect((await call(`${PASSWORD}/unbind`, { userId }, again.token)).body).toEqual({ data: { success: true } });
    expect((await call(`${AUTH}/getCurrentUser`, undefined, again.token)).status).toBe(401);
    expect((await call(`${PASSWORD}/getLoginCode`, { username: "wen", password: SEED_NEW_PASSWORD })).body.error.code).toBe("CREDENTIALS_INVALID");
  });

  it("locks a username with 429 LOGIN_LOCKED and Retry-After", async () => {
    for (let i = 0; i < 5; i++) expect((await call(`${PASSWORD}/getLoginCode`, { username: "pat", password: `${SEED_PASSWORD}-${i}` })).status).toBe(401);
    const locked = await call(`${PASSWORD}/getLoginCode`, { username: "pat", password: SEED_PASSWORD });
    expect([locked.status, locked.body.error.code, locked.headers.get("retry-after")]).toEqual([429, "LOGIN_LOCKED", "30"]);
  });

  it("never shows a password or a hash: not in any answer, not in any log line", async () => {
    const db = new Database(`${root}/data/pw.sqlite`, { readonly: true });
    const hashes = (db.prepare("SELECT password_hash FROM (SELECT realm, subject AS username, user_id, secret_hash AS password_hash FROM identities WHERE provider = 'password') p").all() as { password_hash: string }[]).map((r) => r.password_hash);
    db.close();
    expect(hashes.length).toBeGreaterThan(0);
    // Every piece of each hash (its salt, its key), not only the whole string.
    const needles = [SEED_PASSWORD, SEED_NEW_PASSWORD, ...hashes.flatMap((h) => h.split("$").filter((part) => part.length >= 16))];
    const seen = replies.map((r) => r.text).join("\n") + child.stderr() + child.stdout();
    expect(child.stderr()).toContain("user registered by password");
    for (const needle of needles) expect(seen).not.toContain(needle);
    expect(seen).not.toContain("$scrypt$");
  });
});
