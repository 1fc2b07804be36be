import { afterEach, describe, expect, it } from "vitest";
import Database from "better-sqlite3";
import { hashToken } from "../runtime/security/tokens.ts";
import { makeLoginApp, randomAppId, type LoginFixture } from "./helpers/loginFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/**
 * One wx.login code, one WeChat exchange, one use (WeChatMiniType/codeLedger.ts, kept in the
 * store). A registered user's repeat gets the same single-use login code; a bind code goes to
 * one caller only, so a replayer can neither register its owner's identity first nor bind
 * it to their own account. serve-cluster.test.ts checks the same across processes.
 */
let fx: LoginFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

const codeOf = (p: Promise<unknown>) => p.then(() => "resolved", (e: { code?: string }) => e.code);
const FIVE_MINUTES = 5 * 60_000;

describe("a wx.login code used again", () => {
  // A repeat of a registered user's code (a client retrying after a lost answer, or a second
  // process) gets the same login code without asking WeChat again; the code opens one session.
  it("getLoginCode of a registered user: a repeat, concurrent or later, gets the same login code and asks WeChat nothing", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const login = fx.login();
    const first = await login.getLoginCode(fx.mint("o-replay"));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    await login.register(first.bindCode);

    const code = fx.mint("o-replay");
    const before = fx.fake.stats().jscode2session;
    const answers = [...(await Promise.all([login.getLoginCode(code), login.getLoginCode(code)]))];
    fx.clock.advance(FIVE_MINUTES - 1_000);
    answers.push(await login.getLoginCode(code));
    const codes = answers.map((a) => ("loginCode" in a ? a.loginCode : null));
    expect(codes[0]).toEqual(expect.any(String));
    expect(new Set(codes).size).toBe(1);
    expect(fx.fake.stats().jscode2session - before).toBe(1);
    // Kept sealed: the login code is in no row in clear.
    const raw = new Database(fx.dbFile, { readonly: true });
    const row = raw.prepare("SELECT sealed_answer FROM wx_codes WHERE code_hash = ?").get(hashToken(code)) as { sealed_answer: string };
    raw.close();
    expect(row.sealed_answer).toMatch(/^v1\./);
    expect(row.sealed_answer).not.toContain(codes[0]);
    await fx.authSvc().loginByCode(codes[0]!);
    await expect(fx.authSvc().loginByCode(codes[0]!)).rejects.toMatchObject({ code: "LOGIN_CODE_INVALID" });
  });

  // Regression (the walkthrough of docs/login-flow.md): code X → bind code → register → a fresh code →
  // login; then X replayed from elsewhere got the login code X was "owed" and a session.
  it("the registering code, replayed before, during or after register, opens no session for the replayer", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const login = fx.login();
    const store = await storeOf(fx.app);
    const code = fx.mint("o-victim-reg");
    const first = await login.getLoginCode(code);
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    const replays: Array<Promise<string | undefined>> = [codeOf(login.getLoginCode(code))];
    const registering = login.register(first.bindCode);
    replays.push(codeOf(login.getLoginCode(code)));
    const user = await registering;
    replays.push(codeOf(login.getLoginCode(code)));
    const session = await fx.authSvc().loginByCode(user.loginCode.value);
    // The walkthrough's next login, with a fresh code, then the replay.
    const next = await login.getLoginCode(fx.mint("o-victim-reg"));
    if (!("loginCode" in next)) throw new Error("expected a login code");
    await fx.authSvc().loginByCode(next.loginCode);
    replays.push(codeOf(login.getLoginCode(code)));
    fx.clock.advance(FIVE_MINUTES + 1); // past the ledger: WeChat itself refuses the spent code
    replays.push(codeOf(login.getLoginCode(code)));
    expect(await Promise.all(replays)).toEqual(Array(5).fill("WECHAT_CODE_USED"));
    // No login code was minted for the replays: the user holds exactly the two the owner used.
    const raw = new Database(fx.dbFile, { readonly: true });
    const rows = raw.prepare("SELECT used_at FROM login_codes WHERE user_id = ?").all(user.userId.value) as { used_at: number | null }[];
    raw.close();
    expect(rows).toHaveLength(2);
    expect(rows.every((r) => r.used_at !== null)).toBe(true);
    expect((await store.getSession(hashToken(session.token), fx.clock.now()))?.userId).toBe(user.userId.value);
  });

  it("a code that served getLoginCode cannot bind, and a code that bound one user cannot bind another or log in", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const login = fx.login();
    const store = await storeOf(fx.app);
    const mallory = (await store.createUser({ name: "mallory" }, fx.clock.now())).userId;
    const alice = (await store.createUser({ name: "alice" }, fx.clock.now())).userId;

    // The victim's code, seen by someone else after the victim used it.
    const victims = fx.mint("o-victim");
    expect(await login.getLoginCode(victims)).toMatchObject({ bindCode: expect.any(String) });
    const stolen = await login.bind(mallory, victims).catch((e: unknown) => e);
    expect(stolen).toMatchObject({ code: "WECHAT_CODE_USED" });
    expect(String((stolen as Error).message)).not.toContain(victims);
    expect(await store.findBindingByUser(fx.instances[0]!.appId, mallory)).toBeNull();

    const alices = fx.mint("o-alice");
    expect(await login.bind(alice, alices)).toMatchObject({ success: true, userId: alice, openId: "o-alice" });
    expect(await codeOf(login.bind(mallory, alices))).toBe("WECHAT_CODE_USED");
    expect(await codeOf(login.getLoginCode(alices))).toBe("WECHAT_CODE_USED");
    // The owner repeating its own bind is told the truth: it is bound.
    expect(await codeOf(login.bind(alice, alices))).toBe("ALREADY_BOUND");
  });

  it("a failed call is not remembered: the same call may try again with the same code", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const login = fx.login();
    const code = fx.mint("o-retry");
    fx.fake.script({ code, status: 502, rawBody: "bad gateway" });
    expect(await codeOf(login.getLoginCode(code))).toBe("WECHAT_UNAVAILABLE");
    expect(await login.getLoginCode(code)).toMatchObject({ bindCode: expect.any(String) });
    // Still its use: another function is refused.
    const store = await storeOf(fx.app);
    const someone = (await store.createUser({ name: "someone" }, fx.clock.now())).userId;
    expect(await codeOf(login.bind(someone, code))).toBe("WECHAT_CODE_USED");
  });

  it("a failure after WeChat named the user spends the code: a retry, perhaps a replay, gets nothing", async () => {
    fx = await makeLoginApp({ allowRegister: 0 });
    const login = fx.login();
    const code = fx.mint("o-unknown");
    expect(await codeOf(login.getLoginCode(code))).toBe("USER_AUTH_MISS");
    // Registered meanwhile (say by bind after a password sign-in): the old code still answers nothing.
    const store = await storeOf(fx.app);
    const userId = (await store.createUser({ name: "late" }, fx.clock.now())).userId;
    await store.createBinding({ appId: fx.instances[0]!.appId, openId: "o-unknown", unionId: null, userId }, fx.clock.now());
    expect(await codeOf(login.getLoginCode(code))).toBe("WECHAT_CODE_USED");
    expect(await login.getLoginCode(fx.mint("o-unknown"))).toMatchObject({ loginCode: expect.any(String), userId });
  });

  it("after five minutes the code is WeChat's to refuse: a repeat is WECHAT_CODE_USED", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const login = fx.login();
    const code = fx.mint("o-late");
    await login.getLoginCode(code);
    fx.clock.advance(FIVE_MINUTES + 1);
    expect(await codeOf(login.getLoginCode(code))).toBe("WECHAT_CODE_USED");
    expect(fx.fake.stats().jscode2session).toBe(2);
  });

  it("bind, unbind, then bind again with the same code really binds again", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const login = fx.login();
    const store = await storeOf(fx.app);
    const appId = fx.instances[0]!.appId;
    const alice = (await store.createUser({ name: "alice" }, fx.clock.now())).userId;
    const code = fx.mint("o-rebind");
    await login.bind(alice, code);
    await login.unbind(alice);
    expect(await store.findBindingByUser(appId, alice)).toBeNull();
    expect(await login.bind(alice, code)).toMatchObject({ success: true, userId: alice, openId: "o-rebind" });
    expect(await store.findBindingByUser(appId, alice)).toMatchObject({ openId: "o-rebind" });
  });

  it("two instances of one mini program share the code's use; each keeps its own allowRegister", async () => {
    const appId = randomAppId();
    fx = await makeLoginApp({
      instances: [
        { name: "openMini", appId, appSecret: "shared-secret", allowRegister: 1 },
        { name: "closedMini", appId, appSecret: "shared-secret", allowRegister: 0 },
      ],
    });
    const open = fx.login("openMini");
    const closed = fx.login("closedMini");
    const registered = fx.mint("o-both", { instance: "openMini" });
    const first = await open.getLoginCode(fx.mint("o-both", { instance: "openMini" }));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    await open.register(first.bindCode);
    const answer = await open.getLoginCode(registered);
    expect(answer).toMatchObject({ loginCode: expect.any(String) });
    expect(await closed.getLoginCode(registered)).toEqual(answer);
    expect(fx.fake.stats().jscode2session).toBe(2);

    // An unregistered identity: the closed instance does not hand out the open one's bind code.
    const stranger = fx.mint("o-stranger", { instance: "openMini" });
    expect(await open.getLoginCode(stranger)).toMatchObject({ bindCode: expect.any(String) });
    expect(await codeOf(closed.getLoginCode(stranger))).toBe("WECHAT_CODE_USED");
    // A code the closed instance refused after WeChat named the user is spent for both.
    const refused = fx.mint("o-refused", { instance: "openMini" });
    expect(await codeOf(closed.getLoginCode(refused))).toBe("USER_AUTH_MISS");
    expect(await codeOf(open.getLoginCode(refused))).toBe("WECHAT_CODE_USED");
  });
});
