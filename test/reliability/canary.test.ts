import { randomBytes } from "node:crypto";
import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { errorOf, runJit } from "../helpers/cliRun.ts";
import { AUTH, DEMO_APPID, LOGIN, makeTempRoot, post, removeDir } from "../helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "../helpers/httpChild.ts";
import { recordFigures } from "./figures.ts";
import { scaled } from "./scale.ts";
import { findSentinels, type Output, type Sentinel } from "./sentinels.ts";

// A secret canary: known sentinel values as the AppSecret, the master key, session keys,
// wx.login codes, bind and login codes, tokens and a database password; every flow and
// every failure driven through a real `jit serve` and the `jit` CLI; then every log line,
// stderr, CLI output and HTTP body searched for each sentinel in five encodings.
const ROUNDS = scaled(50, 1);
const SECRET = `canary-appsecret-${randomBytes(12).toString("hex")}`;
const MASTER_KEY = randomBytes(32);
const PG_PASSWORD = `canaryPgPw${randomBytes(8).toString("hex")}`;
const CONFIG = "apps/demo/elements/auths/loginTypes/myWeChatMiniLogin/myWeChatMiniLogin.json";

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
  const counts = { requests: 0, cli: 0, failures: new Set<string>() };
  const env = () => ({
    WECHAT_API_BASE: fake.url,
    JIT_MASTER_KEY: MASTER_KEY.toString("base64"),
    JIT_LOG_LEVEL: "debug",
    JIT_RATE_LIMIT_IP: "off",
    JIT_RATE_LIMIT_OPENID: "off",
    JIT_RATE_LIMIT_USER: "off",
  });
  const dbFile = () => path.join(root, "data", "canary.sqlite");

  beforeAll(async () => {
    root = await makeTempRoot();
    // A short WeChat timeout, so "WeChat slow" fails within the test.
    await writeFile(path.join(root, CONFIG), JSON.stringify({ authConfig: { appId: DEMO_APPID, appSecret: SECRET, registerCorpId: "demo-corp", registerCorpName: "Demo Corp", timeoutMs: 300 } }));
    fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: SECRET }] });
    server = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", dbFile()], env());
    [, base] = (await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/)) as unknown as [string, string];
  });
  afterAll(async () => {
    server?.kill("SIGKILL");
    await fake?.close();
    await removeDir(root);
  });

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

  it("finds no sentinel in any output, in any encoding", { timeout: 600_000 }, async () => {
    for (let r = 0; r < ROUNDS; r++) await round(r);

    // The CLI beside the server on the same database, and on databases it cannot open (in parallel: each is a process).
    const folderAsDb = path.join(root, "a-folder");
    await mkdir(folderAsDb, { recursive: true });
    // `--db` is an option of `call`: it goes after it (before it, commander refuses the command line).
    const jitCall = (db: string, fullName: string, method: string, ...args: string[]) => ["call", fullName, method, ...args, "--db", db];
    const getLoginCode = (db: string, wxCode: string) => jitCall(db, "auths.loginTypes.myWeChatMiniLogin", "getLoginCode", wxCode);
    const results = await Promise.all([
      cli("show", ["show", "auths.loginTypes.myWeChatMiniLogin"]),
      cli("validate", ["validate"]),
      cli("call getLoginCode", getLoginCode(dbFile(), code("canary-cli"))),
      cli("call loginByCode (bad)", jitCall(dbFile(), "auths.loginTypes.services.AuthSvc", "loginByCode", "not-a-code")),
      cli("call on a folder as database", getLoginCode(folderAsDb, code("canary-db"))),
      cli("serve on an unreachable PostgreSQL", ["serve", "--port", "0", "--db", `postgres://canary:${PG_PASSWORD}@127.0.0.1:1/canary?connect_timeout=1`]),
      cli("call with a bad master key", getLoginCode(dbFile(), code("canary-mk")), { JIT_MASTER_KEY: SECRET }),
    ]);
    // Each ran to its own answer, not to a usage error: a getLoginCode, and three refusals by their codes.
    expect(results[2]!.code).toBe(0);
    for (const result of [results[3]!, results[4]!, results[6]!]) {
      expect(errorOf(result.stderr)?.code).toMatch(/^[A-Z_]+$/);
      counts.failures.add(`${errorOf(result.stderr)!.code} (CLI)`);
    }
    expect(results[5]!.stderr).toMatch(/^STORE_OPEN_FAILED /m);
    counts.failures.add("STORE_OPEN_FAILED (CLI serve)");

    // WeChat down, then the server stopped.
    await fake.close();
    await call("getLoginCode with WeChat down", `${LOGIN}/getLoginCode`, { code: code("canary-down") });
    server.kill("SIGTERM");
    await server.exited;
    outputs.push({ source: "jit serve stdout", text: server.stdout() }, { source: "jit serve stderr (logs)", text: server.stderr() });

    const { hits, searches } = findSentinels(sentinels, outputs);
    const logLines = server.stderr().split("\n").length + server.stdout().split("\n").length;
    recordFigures("canary", [
      {
        part: "secret canary",
        tried: `${sentinels.length.toLocaleString("en")} sentinels × 5 encodings in ${counts.requests.toLocaleString("en")} HTTP answers, ${counts.cli} CLI runs, ${logLines.toLocaleString("en")} log lines (${counts.failures.size} distinct failures, ${searches.toLocaleString("en")} searches)`,
        held: `${hits.length} hits`,
        ok: hits.length === 0,
      },
    ]);
    expect(hits.slice(0, 10)).toEqual([]);
    // The canary can fail: it sees what the answers that issue codes carry.
    expect(findSentinels(sentinels, outputs.map((o) => ({ ...o, issues: [] }))).hits.length).toBeGreaterThan(0);
    expect(counts.failures.size).toBeGreaterThan(10);
  });
});
