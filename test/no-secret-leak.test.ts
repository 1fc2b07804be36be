import { randomBytes } from "node:crypto";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JitError } from "../runtime/errors/index.ts";
import { runWithCallContext } from "../runtime/context/callContext.ts";
import { makeLoginApp, TEST_APP_ID, type LoginFixture } from "./helpers/loginFixture.ts";
import { runJit } from "./helpers/cliRun.ts";
import { createAccessTokenSeal } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/**
 * Runs the whole login flow (in process and through `jit call`), records every log line,
 * result and error, and checks that no secret shows up anywhere except in the one result
 * that hands it to its owner (a bind code in getLoginCode's result, a token in loginByCode's).
 */
describe("no secret leaks from the login flow, the phone number, the session-key check and the access token", () => {
  let fx: LoginFixture;
  const outputs: Array<{ label: string; text: string; allowed: Set<string> }> = [];
  const secrets = new Map<string, string>(); // secret → what it is

  function record(label: string, value: unknown, ...allowed: string[]): void {
    const text = value instanceof JitError ? JSON.stringify({ error: value }) + value.message + String(value.stack) : JSON.stringify(value);
    outputs.push({ label, text, allowed: new Set(allowed) });
  }
  async function attempt(label: string, fn: () => Promise<unknown>): Promise<void> {
    try {
      record(label, await fn());
    } catch (err) {
      record(label, err);
    }
  }
  function mint(openId: string, unionId?: string): string {
    const sessionKey = randomBytes(16).toString("base64");
    secrets.set(sessionKey, `session_key of ${openId}`);
    const code = fx.mint(openId, { sessionKey, unionId: unionId ?? null });
    secrets.set(code, `js_code for ${openId}`);
    return code;
  }

  beforeAll(async () => {
    fx = await makeLoginApp({ allowRegister: 1, registerCorpId: "leak-corp" });
    secrets.set(fx.instances[0]!.appSecret, "AppSecret");
    secrets.set(fx.env.JIT_MASTER_KEY!, "JIT_MASTER_KEY");
  });
  afterAll(async () => {
    await fx.cleanup();
  });

  it("keeps secrets out of logs, results, errors and CLI output", async () => {
    const login = fx.login();
    const auth = fx.authSvc();

    // Registration and login, in process.
    const first = await runWithCallContext({ via: "http" }, () => login.getLoginCode(mint("o-leak", "u-leak")));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    secrets.set(first.bindCode, "bind code");
    record("getLoginCode (bind)", first, first.bindCode);
    const user = await login.register(first.bindCode);
    secrets.set(user.loginCode.value, "register's login code");
    record("register", user, user.loginCode.value);
    const second = await login.getLoginCode(mint("o-leak"));
    if (!("loginCode" in second)) throw new Error("expected a login code");
    secrets.set(second.loginCode, "login code");
    record("getLoginCode (login)", second, second.loginCode);
    const session = await auth.loginByCode(second.loginCode);
    secrets.set(session.token, "session token");
    record("loginByCode", session, session.token);
    record("getCurrentUser", await auth.getCurrentUser(session.token));
    record("getLoginConfig", login.getLoginConfig());
    record("element as JSON", login);
    fx.app.logger.info({ element: login }, "a log line that meets the element");

    // Every failure, with secrets as inputs.
    const spent = mint("o-leak");
    await login.getLoginCode(spent);
    await attempt("reused js_code", () => login.getLoginCode(spent));
    fx.fake.script({ drop: true });
    await attempt("dropped connection", () => login.getLoginCode(mint("o-drop")));
    fx.fake.script({ status: 500, rawBody: "oops", contentType: "text/plain" });
    await attempt("5xx", () => login.getLoginCode(mint("o-5xx")));
    await attempt("reused bind code", () => login.register(first.bindCode));
    await attempt("reused login code", () => auth.loginByCode(second.loginCode));
    await attempt("bind conflict", () => login.bind(user.userId.value, mint("o-other")));
    await attempt("logout", () => auth.logout(session.token));
    await attempt("token after logout", () => auth.getCurrentUser(session.token));
    const expiring = await login.getLoginCode(mint("o-expire"));
    if (!("bindCode" in expiring)) throw new Error("expected a bind code");
    secrets.set(expiring.bindCode, "bind code");
    record("getLoginCode (bind 2)", expiring, expiring.bindCode);
    fx.clock.advance(300_000);
    await attempt("expired bind code", () => login.register(expiring.bindCode));

    // The CLI: a bind code is printed once by the call that issues it, nothing else.
    const cli = (...args: string[]) => runJit(["--root", fx.root, "--app", TEST_APP_ID, "call", ...args, "--db", fx.dbFile], fx.env);
    const cliCode = mint("o-cli");
    const issued = await cli(fx.instances[0]!.fullName, "getLoginCode", cliCode);
    const cliBind = (JSON.parse(issued.stdout) as { bindCode: string }).bindCode;
    secrets.set(cliBind, "bind code (CLI)");
    record("CLI getLoginCode stdout", issued.stdout, cliBind);
    record("CLI getLoginCode stderr", issued.stderr);
    const [reused, registered] = await Promise.all([cli(fx.instances[0]!.fullName, "getLoginCode", cliCode), cli(fx.instances[0]!.fullName, "register", cliBind)]);
    for (const [label, r] of [["CLI reused code", reused], ["CLI register", registered]] as const) {
      expect(r.code, label).toBe(label === "CLI register" ? 0 : 1);
      record(`${label} stdout`, r.stdout);
      record(`${label} stderr`, r.stderr);
    }

    // The phone number, the session-key check and reset, and the access token behind them.
    const appId = fx.instances[0]!.appId;
    const uid = user.userId.value;
    const phoneCode = fx.fake.mintPhoneCode({ appId, purePhoneNumber: "13900139000" });
    secrets.set(phoneCode, "phone code");
    record("getPhoneNumber", await login.getPhoneNumber(phoneCode, uid));
    await attempt("reused phone code", () => login.getPhoneNumber(phoneCode, uid));
    const foreign = fx.fake.mintPhoneCode({ appId, purePhoneNumber: "13900139001", watermarkAppId: "wx-other" });
    secrets.set(foreign, "phone code");
    await attempt("foreign watermark", () => login.getPhoneNumber(foreign, uid));
    await login.getLoginCode(mint("o-leak")); // the server holds the user's current key again
    record("checkSessionKey", await login.checkSessionKey(uid));
    record("resetSessionKey", await login.resetSessionKey(uid));
    secrets.set(fx.fake.sessionKeyOf(appId, "o-leak")!, "session_key after reset");
    fx.fake.failNext("checksession", 40001, 2);
    await attempt("token rejected twice", () => login.checkSessionKey(uid));
    fx.clock.advance(31_000);
    fx.fake.rotateSessionKey(appId, "o-leak");
    await attempt("stale key reset", () => login.resetSessionKey(uid));
    const cliPhone = fx.fake.mintPhoneCode({ appId, purePhoneNumber: "13900139002" });
    secrets.set(cliPhone, "phone code (CLI)");
    for (const [label, args] of [
      ["CLI checkSessionKey", ["checkSessionKey", String(uid)]],
      ["CLI resetSessionKey", ["resetSessionKey", String(uid)]],
      ["CLI getPhoneNumber", ["getPhoneNumber", cliPhone, String(uid)]],
      ["CLI reused phone code", ["getPhoneNumber", cliPhone, String(uid)]],
    ] as const) {
      const r = await cli(fx.instances[0]!.fullName, ...args);
      record(`${label} stdout`, r.stdout);
      record(`${label} stderr`, r.stderr);
    }
    const sealedToken = (await (await storeOf(fx.app)).getAccessToken(appId))?.sealed;
    const accessToken = createAccessTokenSeal(Buffer.from(fx.env.JIT_MASTER_KEY!, "hex")).open(appId, sealedToken!);
    secrets.set(accessToken, "access_token");
    expect(outputs.find((o) => o.label === "CLI checkSessionKey stdout")!.text).toContain("valid");

    const logs = fx.logs();
    expect(logs).toContain("user registered");
    expect(logs).toContain("phone number stored");
    record("logs", logs);

    const leaks: string[] = [];
    for (const out of outputs) {
      for (const [secret, what] of secrets) {
        if (out.text.includes(secret) && !out.allowed.has(secret)) leaks.push(`${what} in ${out.label}`);
      }
    }
    expect(leaks).toEqual([]);
    // The check itself can fail: the issuing results do hold their secret.
    expect(outputs.find((o) => o.label === "loginByCode")!.text).toContain(session.token);
  }, 120_000); // a dozen `jit call` processes: slow on a loaded machine
});
