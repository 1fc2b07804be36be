import { randomBytes, randomInt } from "node:crypto";
import { readFileSync } from "node:fs";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { errorOf, runJit } from "../helpers/cliRun.ts";
import { AUTH, DEMO_APPID, LOGIN, makeTempRoot, post, REPO, removeDir } from "../helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "../helpers/httpChild.ts";
import { shopFiles } from "../models/shopApp.ts";
import { recordFigures } from "./figures.ts";
import { scaled } from "./scale.ts";
import { findSentinels, type Output, type Sentinel } from "./sentinels.ts";

// A secret canary: known sentinel values as the AppSecret, the master key, session keys,
// wx.login and phone codes, bind and login codes, tokens, WeChat access tokens, user
// passwords (accepted, refused and wrong ones) and their stored hashes, and a database
// password; every flow and every failure driven through a real `jit serve` and the `jit`
// CLI; then every log line, stderr, CLI output and HTTP body searched for each sentinel in
// five encodings. A password is never shown to anyone, not even its owner.
const ROUNDS = scaled(50, 1);
const SECRET = `canary-appsecret-${randomBytes(12).toString("hex")}`;
const MASTER_KEY = randomBytes(32);
const PG_PASSWORD = `canaryPgPw${randomBytes(8).toString("hex")}`;
const CONFIG = "apps/demo/elements/auths/loginTypes/myWeChatMiniLogin/myWeChatMiniLogin.json";
const PASSWORD = "/api/demo/auths/loginTypes/myPasswordLogin";
const PASSWORD_CONFIG = "apps/demo/elements/auths/loginTypes/myPasswordLogin/myPasswordLogin.json";
const PASSWORD_ELEMENT = "auths.loginTypes.myPasswordLogin";
const WECHAT_ELEMENT = "auths.loginTypes.myWeChatMiniLogin";
const SHOP = "/api/demo/services/OrderSvc";
// Common passwords with 8 letters or more: in random case each is still refused (the list is
// compared case-insensitively) and is a value no output has by chance.
const COMMON = readFileSync(path.join(REPO, "elements/auths/loginTypes/PasswordType/commonPasswords.txt"), "utf8")
  .split("\n")
  .filter((p) => p.length >= 12 && (p.match(/[a-z]/g) ?? []).length >= 8);

describe("secret canary", () => {
  let root: string;
  let fake: FakeWeChatServer;
  let server: Child;
  let base: string;
  const sentinels: Sentinel[] = [
    { what: "AppSecret", value: Buffer.from(SECRET) },
    { what: "master key (text)", value: Buffer.from(MASTER_KEY.toString("base64")) },
    { what: "master key (bytes)", value: MASTER_KEY },
    { what: "database password", value: Buffer.from(PG_PASSWORD) },
  ];
  const outputs: Output[] = [];
  /** Every request body and CLI argument list sent: each password must be found there (the search can see it). */
  const sent: string[] = [];
  const counts = { requests: 0, cli: 0, failures: new Set<string>(), succeeded: new Set<string>(), accessTokens: 0, passwords: 0, hashes: new Set<string>() };
  const env = () => ({
    WECHAT_API_BASE: fake.url,
    JIT_MASTER_KEY: MASTER_KEY.toString("base64"),
    JIT_LOG_LEVEL: "debug",
    JIT_RATE_LIMIT_IP: "off",
    JIT_RATE_LIMIT_OPENID: "off",
    JIT_RATE_LIMIT_USER: "off",
    // Each round's password logins come from their own address (X-Forwarded-For), so the
    // per-address lockout (50 failures) does not lock later rounds out at full scale.
    JIT_TRUST_PROXY: "loopback",
  });
  const dbFile = () => path.join(root, "data", "canary.sqlite");

  beforeAll(async () => {
    root = await makeTempRoot(shopFiles());
    // A short WeChat timeout, so "WeChat slow" fails within the test.
    await writeFile(path.join(root, CONFIG), JSON.stringify({ authConfig: { appId: DEMO_APPID, appSecret: SECRET, registerCorpId: "demo-corp", registerCorpName: "Demo Corp", timeoutMs: 300 } }));
    // Cheap scrypt (N = 2^12): the canary looks for leaks, not for the hash's cost.
    await writeFile(path.join(root, PASSWORD_CONFIG), JSON.stringify({ authConfig: { registerCorpId: "demo-corp", registerCorpName: "Demo Corp", scrypt: { ln: 12, r: 8, p: 1 } } }));
    fake = await startFakeWeChatServer({
      apps: [{ appId: DEMO_APPID, appSecret: SECRET }],
      // Every access token stable_token issues is a sentinel (shaped like WeChat's).
      mintAccessToken: () => {
        counts.accessTokens++;
        return planted("WeChat access token", `canaryAccessToken_${randomBytes(24).toString("base64url")}`);
      },
    });
    server = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", dbFile()], env());
    [, base] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/)) as unknown as [string, string];
  });
  afterAll(async () => {
    server?.kill("SIGKILL");
    await fake?.close();
    await removeDir(root);
  });

  function planted(what: string, value: string): string {
    sentinels.push({ what, value: Buffer.from(value) });
    return value;
  }

  /** A session key WeChat issued (resetusersessionkey, a wx.login elsewhere), as text and bytes. */
  function plantSessionKey(sessionKey: string | null): void {
    if (sessionKey) sentinels.push({ what: "session_key", value: Buffer.from(sessionKey) }, { what: "session_key (bytes)", value: Buffer.from(sessionKey, "base64") });
  }

  /** A password the policy accepts (8–128 characters, not common, not the username). */
  function password(what: string): string {
    counts.passwords++;
    // Some with characters outside ASCII: the search covers their UTF-8 bytes.
    const body = counts.passwords % 3 === 0 ? `密码-${randomBytes(9).toString("base64url")}` : randomBytes(12).toString("base64url");
    return planted(what, `canaryPw-${body}`);
  }

  /** A password longer than `length` with a sentinel at each end, so a cut or shortened echo is caught too. */
  function longPassword(what: string, length: number): string {
    counts.passwords++;
    const start = planted(`${what}, its start`, `canaryLongPwA${randomBytes(9).toString("base64url")}`);
    const end = planted(`${what}, its end`, `canaryLongPwZ${randomBytes(9).toString("base64url")}`);
    return start + "x".repeat(length - start.length - end.length) + end;
  }

  /** New passwords the policy refuses (PASSWORD_TOO_WEAK), each a sentinel: too short, too long, common, the username. */
  function refusedPasswords(username: string): string[] {
    counts.passwords += 3;
    const common = [...COMMON[randomInt(COMMON.length)]!].map((c) => (randomInt(2) ? c.toUpperCase() : c)).join("");
    return [
      planted("refused password (7 characters)", randomBytes(6).toString("base64url").slice(0, 7)),
      longPassword("refused password (129+ characters)", 200),
      planted("refused password (common, in random case)", common),
      // Upper-cased: the username (lower-case, which answers may name) is not the sentinel.
      planted("refused password (the username, upper-cased)", username.toUpperCase()),
    ];
  }

  /** A phone-button code (a sentinel) for `purePhoneNumber`. */
  function phoneCode(purePhoneNumber: string): string {
    return planted("phone code", fake.mintPhoneCode({ appId: DEMO_APPID, purePhoneNumber }));
  }

  /** The stored password hashes so far, each a sentinel whole and in its parts (salt, key; as text and bytes). */
  function plantHashes(): void {
    const db = new Database(dbFile(), { readonly: true, fileMustExist: true });
    try {
      for (const { password_hash: hash } of db.prepare("SELECT password_hash FROM (SELECT realm, subject AS username, user_id, secret_hash AS password_hash FROM identities WHERE provider = 'password') p").all() as { password_hash: string }[]) {
        if (counts.hashes.has(hash)) continue;
        counts.hashes.add(hash);
        const [, , , salt, key] = hash.split("$");
        sentinels.push({ what: "password hash", value: Buffer.from(hash) });
        for (const part of [salt!, key!]) sentinels.push({ what: "password hash part", value: Buffer.from(part) }, { what: "password hash part (bytes)", value: Buffer.from(part, "base64") });
      }
    } finally {
      db.close();
    }
  }

  /** A wx.login code whose session key is a sentinel too. */
  function code(openId: string): string {
    const sessionKey = randomBytes(16).toString("base64");
    const minted = fake.mintCode({ appId: DEMO_APPID, openId, sessionKey });
    sentinels.push({ what: "session_key", value: Buffer.from(sessionKey) }, { what: "session_key (bytes)", value: Buffer.from(sessionKey, "base64") }, { what: "wx.login code", value: Buffer.from(minted) });
    return minted;
  }

  async function call(what: string, url: string, body: unknown, init: { token?: string; raw?: string; headers?: Record<string, string> } = {}) {
    const reply = await post(base, url, body, init);
    counts.requests++;
    sent.push(init.raw ?? JSON.stringify(body ?? null));
    if (reply.status === 200) counts.succeeded.add(what);
    const data = reply.body?.data ?? {};
    const issued = ["bindCode", "loginCode", "token"].map((k) => data[k]).filter((v): v is string => typeof v === "string");
    for (const value of issued) sentinels.push({ what: what.includes("loginByCode") ? "token" : "bind or login code", value: Buffer.from(value) });
    outputs.push({ source: `HTTP ${what} (${reply.status})`, text: reply.text + JSON.stringify([...reply.headers]), issues: issued });
    if (reply.status >= 400) counts.failures.add(reply.body?.error?.code ?? String(reply.status));
    return reply;
  }

  async function cli(what: string, args: string[], extraEnv: Record<string, string> = {}) {
    const result = await runJit(["--root", root, "--app", "demo", ...args], { ...env(), ...extraEnv });
    counts.cli++;
    sent.push(args.join(" "));
    const failure = errorOf(result.stderr)?.code;
    if (failure) counts.failures.add(`${failure} (CLI)`);
    if (result.code === 0) counts.succeeded.add(`CLI ${what}`);
    const data = (() => {
      try {
        return JSON.parse(result.stdout)?.data ?? JSON.parse(result.stdout);
      } catch {
        return {};
      }
    })();
    const issued = ["bindCode", "loginCode", "token"].map((k) => data?.[k]).filter((v): v is string => typeof v === "string");
    for (const value of issued) sentinels.push({ what: "bind or login code", value: Buffer.from(value) });
    outputs.push({ source: `CLI ${what} stdout`, text: result.stdout, issues: issued }, { source: `CLI ${what} stderr`, text: result.stderr });
    return result;
  }

  /** An app developer's own service and model, called with the session token: orders, good and bad. */
  async function shopFlows(r: number, token: string): Promise<void> {
    await call("placeOrder", `${SHOP}/placeOrder`, { item: `tea-${r}`, qty: 2 }, { token });
    await call("placeOrder too long", `${SHOP}/placeOrder`, { item: "x".repeat(65), qty: 1 }, { token });
    await call("placeOrder empty", `${SHOP}/placeOrder`, { item: "tea", qty: 0 }, { token });
    await call("placeOrder anonymous", `${SHOP}/placeOrder`, { item: "tea", qty: 1 });
    await call("myOrders", `${SHOP}/myOrders`, {}, { token });
    await call("searchMine bad filter", `${SHOP}/searchMine`, { filter: { qty: { "~": token } } }, { token });
    await call("searchMine unknown field", `${SHOP}/searchMine`, { filter: { [`x${r}`]: 1 } }, { token });
  }

  async function round(r: number): Promise<void> {
    const who = `canary-${r}`;
    // Sign-up, replays of every single-use value, login, a wrong organisation, the session.
    const first = await call("getLoginCode", `${LOGIN}/getLoginCode`, { code: code(who) });
    const spentCode = code(`${who}-spent`);
    await call("getLoginCode", `${LOGIN}/getLoginCode`, { code: spentCode });
    await call("getLoginCode replay", `${LOGIN}/getLoginCode`, { code: spentCode });
    const bindCode = first.body.data.bindCode as string;
    const reg = await call("register", `${LOGIN}/register`, { bindCode });
    await call("register replay", `${LOGIN}/register`, { bindCode });
    const loginCode = reg.body.data.loginCode as string;
    await call("loginByCode wrong corp", `${AUTH}/loginByCode`, { loginCode, corpId: "not-a-member" });
    const session = await call("loginByCode", `${AUTH}/loginByCode`, { loginCode });
    await call("loginByCode replay", `${AUTH}/loginByCode`, { loginCode });
    const { token, userId } = session.body.data as { token: string; userId: number };
    await call("getCurrentUser", `${AUTH}/getCurrentUser`, {}, { token });
    await shopFlows(r, token);
    await accessTokenFlows(r, token);
    await passwordForWeChatUser(r, userId, token);
    // Bind and unbind, and their failures.
    await call("bind already bound", `${LOGIN}/bind`, { userId, code: code(`${who}-other`) }, { token });
    await call("bind someone else", `${LOGIN}/bind`, { userId: userId + 1000, code: code(`${who}-x`) }, { token });
    const again = await call("getLoginCode", `${LOGIN}/getLoginCode`, { code: code(who) });
    const second = await call("loginByCode", `${AUTH}/loginByCode`, { loginCode: again.body.data.loginCode });
    await call("unbind", `${LOGIN}/unbind`, { userId }, { token: second.body.data.token });
    await call("unbind ended session", `${LOGIN}/unbind`, { userId }, { token: second.body.data.token });
    await call("logout", `${AUTH}/logout`, {}, { token });
    await call("getCurrentUser after logout", `${AUTH}/getCurrentUser`, {}, { token });
    // WeChat failing every way it can: refusing, busy, garbage, an HTTP error, a cut connection, slow.
    const failures = [
      { errcode: 40029 },
      { errcode: 40163 },
      { errcode: -1 },
      { errcode: 40125 },
      { errcode: 45011 },
      { rawBody: `<html>${SECRET}</html>` },
      { rawBody: '{"openid":' },
      { status: 502, rawBody: "bad gateway" },
      { rawBody: JSON.stringify({ session_key: 42, openid: null }) },
      { drop: true },
      { delayMs: 800 },
    ];
    for (const rule of failures) {
      fake.script(rule);
      await call(`getLoginCode with WeChat ${JSON.stringify(rule).slice(0, 40)}`, `${LOGIN}/getLoginCode`, { code: code(`${who}-wx`) });
    }
    // Bad input carrying secrets: a token, codes and the AppSecret where they do not belong.
    await call("garbage token", `${AUTH}/getCurrentUser`, {}, { token: `${token}x` });
    // (Not as a body key: an unknown key is named in the answer, quoted, to the client that sent it.)
    await call("secret as a value of the wrong type", `${LOGIN}/getLoginCode`, undefined, { raw: JSON.stringify({ code: [SECRET, loginCode] }) });
    await call("code as wrong type", `${LOGIN}/register`, undefined, { raw: `{"bindCode":["${bindCode}"]}` });
    await call("malformed body with a token", `${AUTH}/loginByCode`, undefined, { raw: `{"loginCode":"${loginCode}"` });
    await call("unknown route with a code", `${LOGIN}/nope?code=${encodeURIComponent(spentCode)}`, { code: spentCode });
  }

  /**
   * The calls behind an access token (getPhoneNumber here; checkSessionKey and
   * resetSessionKey through `jit call`), with WeChat expiring, refusing and revoking the
   * token, and stable_token failing. Each token the fake issues is a sentinel.
   */
  async function accessTokenFlows(r: number, token: string): Promise<void> {
    let n = 0;
    const phone = (what: string, code = phoneCode(`13${String(r * 10 + n++).padStart(9, "0")}`)) =>
      call(`getPhoneNumber ${what}`.trim(), `${LOGIN}/getPhoneNumber`, { code }, { token });
    await phone("");
    fake.expireAccessToken(DEMO_APPID);
    await phone("(token expired: 42001, refreshed)");
    const spent = phoneCode(`13${String(r * 10 + n++).padStart(9, "0")}`);
    await phone("(code used once)", spent);
    await phone("replay", spent);
    await phone("unknown code", planted("phone code", `canaryPhoneCode${randomBytes(12).toString("hex")}`));
    fake.failNext("getuserphonenumber", 40001, 2);
    await phone("(token refused twice)");
    fake.revokeAccessToken(DEMO_APPID);
    await phone("(token revoked: force_refresh, or its quota spent)");
    fake.expireAccessToken(DEMO_APPID);
    fake.failNext("stable_token", -1);
    await phone("(stable_token busy)");
    fake.expireAccessToken(DEMO_APPID);
    fake.failNext("stable_token", 40125);
    await phone("(stable_token refusing the AppSecret)");
    // (The round ends with no token stored: the next one starts with a fetch.)
  }

  /** A WeChat-created user sets a password (bind) and logs in by it. */
  async function passwordForWeChatUser(r: number, userId: number, token: string): Promise<void> {
    const headers = { "x-forwarded-for": `198.18.${r >> 8}.${r & 255}` };
    const username = `canary-wxpw-${r}-${randomBytes(4).toString("hex")}`;
    for (const bad of refusedPasswords(username)) await call("password bind (refused password)", `${PASSWORD}/bind`, { userId, username, password: bad }, { token, headers });
    const secret = password("password (bound to a WeChat user)");
    await call("password bind someone else", `${PASSWORD}/bind`, { userId: userId + 1000, username, password: secret }, { token, headers });
    await call("password bind", `${PASSWORD}/bind`, { userId, username, password: secret }, { token, headers });
    await call("password bind again", `${PASSWORD}/bind`, { userId, username: `${username}-2`, password: password("password (never set)") }, { token, headers });
    const byPassword = await call("password getLoginCode (WeChat user)", `${PASSWORD}/getLoginCode`, { username, password: secret }, { headers });
    await call("loginByCode (WeChat user by password)", `${AUTH}/loginByCode`, { loginCode: byPassword.body?.data?.loginCode });
    // Unbinding the password ends the sessions it opened, not the WeChat one used here.
    await call("password unbind", `${PASSWORD}/unbind`, { userId }, { token, headers });
    await call("password unbind again", `${PASSWORD}/unbind`, { userId }, { token, headers });
  }

  /**
   * A password user: refused passwords, register, login, updatePassword (old wrong, old
   * over the input limit, new refused, done), the old password, an unknown username, wrong
   * ones until LOGIN_LOCKED, bad input. Returns what `jit call` uses later.
   */
  async function passwordRound(r: number): Promise<{ username: string; password: string; token: string }> {
    const headers = { "x-forwarded-for": `198.18.${r >> 8}.${r & 255}` };
    const username = `canary-pw-${r}-${randomBytes(4).toString("hex")}`;
    for (const bad of refusedPasswords(username)) await call("password register (refused password)", `${PASSWORD}/register`, { username, password: bad }, { headers });
    await call("password register (over the HTTP length limit)", `${PASSWORD}/register`, { username, password: longPassword("password over 4,096 characters", 5000) }, { headers });
    const first = password("password");
    const reg = await call("password register", `${PASSWORD}/register`, { username, password: first, name: `Canary ${r}` }, { headers });
    plantHashes();
    await call("password register taken", `${PASSWORD}/register`, { username: username.toUpperCase(), password: password("password (never set)") }, { headers });
    const session = await call("loginByCode (password register)", `${AUTH}/loginByCode`, { loginCode: reg.body?.data?.loginCode });
    const token = session.body?.data?.token as string;
    const login = await call("password getLoginCode", `${PASSWORD}/getLoginCode`, { username, password: first }, { headers });
    await call("loginByCode (password)", `${AUTH}/loginByCode`, { loginCode: login.body?.data?.loginCode });

    const update = (what: string, oldPassword: string, newPassword: string) => call(`updatePassword ${what}`.trim(), `${PASSWORD}/updatePassword`, { oldPassword, newPassword }, { token, headers });
    await update("(old one wrong)", password("wrong password"), password("password (never set)"));
    await update("(old one over the login input limit)", longPassword("password over 1,024 characters", 2000), password("password (never set)"));
    for (const bad of refusedPasswords(username)) await update("(new one refused)", first, bad);
    const second = password("password");
    await update("", first, second);
    plantHashes();
    await call("password getLoginCode (the old password)", `${PASSWORD}/getLoginCode`, { username, password: first }, { headers });
    await call("password getLoginCode (the new password)", `${PASSWORD}/getLoginCode`, { username, password: second }, { headers });
    await call("password getLoginCode (unknown username)", `${PASSWORD}/getLoginCode`, { username: `${username}-nobody`, password: password("password (of nobody)") }, { headers });
    // Five failures lock the username from this address: the sixth is LOGIN_LOCKED, so is the right one then.
    for (let i = 0; i < 6; i++) await call("password getLoginCode (wrong)", `${PASSWORD}/getLoginCode`, { username, password: password("wrong password") }, { headers });
    await call("password getLoginCode (right, while locked)", `${PASSWORD}/getLoginCode`, { username, password: second }, { headers });

    // Bad input carrying a password: the wrong type, a malformed body, a query string.
    await call("password of the wrong type", `${PASSWORD}/getLoginCode`, undefined, { raw: JSON.stringify({ username, password: [second] }), headers });
    await call("malformed body with a password", `${PASSWORD}/getLoginCode`, undefined, { raw: `{"username":"${username}","password":"${second}"`, headers });
    await call("unknown route with a password", `${PASSWORD}/nope?password=${encodeURIComponent(second)}`, { username, password: second }, { headers });
    await call("password unbind someone else", `${PASSWORD}/unbind`, { userId: (session.body?.data?.userId ?? 0) + 1000 }, { token, headers });
    return { username, password: second, token };
  }

  it("finds no sentinel in any output, in any encoding", { timeout: 600_000 }, async () => {
    let last: Awaited<ReturnType<typeof passwordRound>> | undefined;
    for (let r = 0; r < ROUNDS; r++) {
      await round(r);
      last = await passwordRound(r);
      plantHashes();
    }

    // A WeChat user for checkSessionKey and resetSessionKey ("http": false: `jit call` only).
    // Two, one per call, so the calls can run at once.
    const wxUser = async (openId: string) => {
      const first = await call("getLoginCode", `${LOGIN}/getLoginCode`, { code: code(openId) });
      const reg = await call("register", `${LOGIN}/register`, { bindCode: first.body?.data?.bindCode });
      const session = await call("loginByCode", `${AUTH}/loginByCode`, { loginCode: reg.body?.data?.loginCode });
      return { userId: String(reg.body?.data?.userId), token: session.body?.data?.token as string };
    };
    const [checked, reset] = [await wxUser("canary-sk-check"), await wxUser("canary-sk-reset")];
    await call("getPhoneNumber", `${LOGIN}/getPhoneNumber`, { code: phoneCode("13900000000") }, { token: checked.token });
    // The token the server stored is one WeChat no longer takes: the CLI's first call gets 42001.
    fake.expireAccessToken(DEMO_APPID);

    // The CLI beside the server on the same database, and on databases it cannot open (in
    // parallel: each is a process; few, as each costs most of a CPU-second).
    const folderAsDb = path.join(root, "a-folder");
    await mkdir(folderAsDb, { recursive: true });
    // `--db` is an option of `call`: it goes after it (before it, commander refuses the command line).
    const jitCall = (db: string, fullName: string, method: string, ...args: string[]) => ["call", fullName, method, ...args, "--db", db];
    const getLoginCode = (db: string, wxCode: string) => jitCall(db, WECHAT_ELEMENT, "getLoginCode", wxCode);
    const wx = (method: string, ...args: string[]) => jitCall(dbFile(), WECHAT_ELEMENT, method, ...args);
    const pw = (method: string, ...args: string[]) => jitCall(dbFile(), PASSWORD_ELEMENT, method, ...args);
    const results = await Promise.all([
      cli("show", ["show", WECHAT_ELEMENT]),
      cli("validate", ["validate"]),
      cli("call getLoginCode", getLoginCode(dbFile(), code("canary-cli"))),
      cli("call loginByCode (bad)", jitCall(dbFile(), "auths.loginTypes.services.AuthSvc", "loginByCode", "not-a-code")),
      cli("call on a folder as database", getLoginCode(folderAsDb, code("canary-db"))),
      cli("serve on an unreachable PostgreSQL", ["serve", "--port", "0", "--db", `postgres://canary:${PG_PASSWORD}@127.0.0.1:1/canary?connect_timeout=1`]),
      cli("call with a bad master key", getLoginCode(dbFile(), code("canary-mk")), { JIT_MASTER_KEY: SECRET }),
      // The access token: the one the server stored is refused (42001), so the CLI fetches a new one.
      cli("call checkSessionKey (token expired)", wx("checkSessionKey", checked.userId)),
      cli("call resetSessionKey", wx("resetSessionKey", reset.userId)).then(() => plantSessionKey(fake.sessionKeyOf(DEMO_APPID, "canary-sk-reset"))),
      // A password: a call that succeeds (both passwords on the command line, the session in JIT_TOKEN), one that fails.
      cli("call password getLoginCode (wrong)", pw("getLoginCode", last!.username, password("wrong password (CLI)"))),
      cli("call updatePassword", pw("updatePassword", last!.password, password("password (CLI)")), { JIT_TOKEN: last!.token }),
    ]);
    // Each ran to its own answer, not to a usage error: a getLoginCode, and refusals by their codes.
    expect(results[2]!.code).toBe(0);
    for (const result of [results[3]!, results[4]!, results[6]!]) expect(errorOf(result.stderr)?.code).toMatch(/^[A-Z_]+$/);
    expect(results[5]!.stderr).toMatch(/^STORE_OPEN_FAILED /m);
    counts.failures.add("STORE_OPEN_FAILED (CLI serve)");

    // WeChat down, then the server stopped.
    await fake.close();
    await call("getLoginCode with WeChat down", `${LOGIN}/getLoginCode`, { code: code("canary-down") });
    await call("getPhoneNumber with WeChat down", `${LOGIN}/getPhoneNumber`, { code: planted("phone code", `canaryPhoneCode${randomBytes(12).toString("hex")}`) }, { token: checked.token });
    server.kill("SIGTERM");
    await server.exited;
    outputs.push({ source: "jit serve stdout", text: server.stdout() }, { source: "jit serve stderr (logs)", text: server.stderr() });
    plantHashes();
    // Whatever the hash's salt and key, its format must not show either.
    planted("password hash (PHC prefix)", "$scrypt$");

    const { hits, searches } = findSentinels(sentinels, outputs);
    const logLines = server.stderr().split("\n").length + server.stdout().split("\n").length;
    recordFigures("canary", [
      {
        part: "secret canary",
        tried: `${sentinels.length.toLocaleString("en")} sentinels (${counts.passwords.toLocaleString("en")} passwords, ${counts.hashes.size} password hashes, ${counts.accessTokens} WeChat access tokens among them) × 5 encodings in ${counts.requests.toLocaleString("en")} HTTP answers, ${counts.cli} CLI runs, ${logLines.toLocaleString("en")} log lines (${counts.failures.size} distinct failures, ${searches.toLocaleString("en")} searches)`,
        held: `${hits.length} hits`,
        ok: hits.length === 0,
      },
    ]);
    expect(hits.slice(0, 10)).toEqual([]);
    // The canary can fail: it sees what the answers that issue codes carry.
    expect(findSentinels(sentinels, outputs.map((o) => ({ ...o, issues: [] }))).hits.length).toBeGreaterThan(0);
    expect(counts.failures.size).toBeGreaterThan(10);
    // The new secrets were really handled: every password went out (and the search finds it
    // there), the flows that must succeed did, and the failures that must happen did.
    const passwords = sentinels.filter((s) => /password/.test(s.what) && !/hash|database/.test(s.what));
    const inRequests = findSentinels(passwords, [{ source: "requests sent", text: sent.join("\n") }]);
    expect(inRequests.hits.filter((h) => h.encoding === "raw").length).toBe(passwords.length);
    expect(passwords.length).toBeGreaterThanOrEqual(counts.passwords);
    expect([...counts.succeeded]).toEqual(
      expect.arrayContaining([
        "password register",
        "password getLoginCode",
        "password getLoginCode (the new password)",
        "updatePassword",
        "password bind",
        "password getLoginCode (WeChat user)",
        "getPhoneNumber",
        "getPhoneNumber (token expired: 42001, refreshed)",
        "password unbind",
        "CLI call checkSessionKey (token expired)",
        "CLI call resetSessionKey",
        "CLI call updatePassword",
        "placeOrder",
        "myOrders",
      ]),
    );
    expect([...counts.failures]).toEqual(
      expect.arrayContaining([
        "PASSWORD_TOO_WEAK",
        "CREDENTIALS_INVALID",
        "LOGIN_LOCKED",
        "ARGUMENT_INVALID",
        "USERNAME_TAKEN",
        "PASSWORD_ALREADY_SET",
        "PASSWORD_NOT_SET",
        "WECHAT_TOKEN_REJECTED",
        "WECHAT_PHONE_CODE_INVALID",
        "CREDENTIALS_INVALID (CLI)",
        "MODEL_VALUE_INVALID",
        "ORDER_EMPTY",
        "LOGIN_REQUIRED",
        "MODEL_FILTER_INVALID",
        "MODEL_FIELD_UNKNOWN",
      ]),
    );
    const stdout = (what: string) => outputs.find((o) => o.source === `CLI ${what} stdout`)?.text;
    expect(stdout("call checkSessionKey (token expired)")).toMatch(/"valid": true/);
    expect(stdout("call updatePassword")).toMatch(/"success": true/);
    expect(counts.accessTokens).toBeGreaterThanOrEqual(3);
    expect(counts.hashes.size).toBeGreaterThanOrEqual(3);
  });
});
