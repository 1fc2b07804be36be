import { afterEach, describe, expect, it } from "vitest";
import { makeLoginApp, randomAppId, type LoginFixture } from "./helpers/loginFixture.ts";

/**
 * One wx.login code, one use, one set of credentials (WeChatMiniType/codeLedger.ts). The
 * exchange remembers WeChat's answer for 5 minutes, so without the ledger anyone who saw a
 * code could replay it for fresh login codes, or bind its owner's identity to their account.
 */
let fx: LoginFixture | undefined;
afterEach(async () => {
  await fx?.cleanup();
  fx = undefined;
});

const codeOf = (p: Promise<unknown>) => p.then(() => "resolved", (e: { code?: string }) => e.code);
const FIVE_MINUTES = 5 * 60_000;

describe("a wx.login code used again", () => {
  it("getLoginCode answers the login code already issued: one code opens one session", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const login = fx.login();
    const first = await login.getLoginCode(fx.mint("o-replay"));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    await login.register(first.bindCode);

    const code = fx.mint("o-replay");
    const before = fx.fake.stats().jscode2session;
    const answer = await login.getLoginCode(code);
    if (!("loginCode" in answer)) throw new Error("expected a login code");
    const replays = await Promise.all([login.getLoginCode(code), login.getLoginCode(code)]);
    for (const replay of replays) expect(replay).toEqual(answer);
    expect(fx.fake.stats().jscode2session - before).toBe(1);

    await fx.authSvc().loginByCode(answer.loginCode);
    const replayed = replays[0]!;
    if (!("loginCode" in replayed)) throw new Error("expected a login code");
    expect(await codeOf(fx.authSvc().loginByCode(replayed.loginCode))).toBe("LOGIN_CODE_INVALID");
  });

  it("while the user is unregistered it answers the same bind code; once registered, one login code", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const login = fx.login();
    const code = fx.mint("o-register-then-login");
    const first = await login.getLoginCode(code);
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    expect(await login.getLoginCode(code)).toEqual(first);
    const { userId } = (await login.register(first.bindCode)).toJSON() as { userId: number };

    // The same code after registering (as apps/acme's override does): a login code, once.
    const after = await login.getLoginCode(code);
    expect(after).toMatchObject({ loginCode: expect.any(String), userId });
    expect(await login.getLoginCode(code)).toEqual(after);
    expect(fx.fake.stats().jscode2session).toBe(1);
  });

  it("a code that served getLoginCode cannot bind, and a code that bound one user cannot bind another or log in", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const login = fx.login();
    const store = await fx.app.getStore();
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
    const store = await fx.app.getStore();
    const someone = (await store.createUser({ name: "someone" }, fx.clock.now())).userId;
    expect(await codeOf(login.bind(someone, code))).toBe("WECHAT_CODE_USED");
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
    const store = await fx.app.getStore();
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
    const viaOpen = await open.getLoginCode(registered);
    expect(await closed.getLoginCode(registered)).toEqual(viaOpen);
    expect(fx.fake.stats().jscode2session).toBe(2);

    // An unregistered identity: the closed instance does not hand out the open one's bind code.
    const stranger = fx.mint("o-stranger", { instance: "openMini" });
    expect(await open.getLoginCode(stranger)).toMatchObject({ bindCode: expect.any(String) });
    expect(await codeOf(closed.getLoginCode(stranger))).toBe("USER_AUTH_MISS");
  });
});
