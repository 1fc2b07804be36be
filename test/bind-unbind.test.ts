import { afterEach, describe, expect, it } from "vitest";
import { hashToken } from "../runtime/security/tokens.ts";
import { makeLoginApp, type LoginFixture } from "./helpers/loginFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/** bind(userId, code) / unbind(userId): attaching WeChat identities to existing users, per AppID. */
describe("bind and unbind", () => {
  let fx: LoginFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  async function newUser(name = "u"): Promise<number> {
    return (await (await storeOf(fx!.app)).createUser({ name }, fx!.clock.now())).userId;
  }

  it("binds an identity, logs that user in, and after unbind the identity is unregistered again", async () => {
    fx = await makeLoginApp();
    const userId = await newUser("alice");
    expect(await fx.login().bind(userId, fx.mint("o-alice"))).toEqual({ success: true, userId, openId: "o-alice" });
    expect(await fx.login().getLoginCode(fx.mint("o-alice"))).toMatchObject({ loginCode: expect.any(String), userId });
    expect(await fx.login().unbind(userId)).toEqual({ success: true });
    expect(await fx.login().getLoginCode(fx.mint("o-alice"))).toEqual({ bindCode: expect.any(String), expiresIn: 300 });
    // Unbound, the user may bind another identity.
    expect(await fx.login().bind(userId, fx.mint("o-alice-2"))).toMatchObject({ success: true, openId: "o-alice-2" });
  });

  it("checks the user before spending the wx.login code", async () => {
    fx = await makeLoginApp();
    const userId = await newUser();
    await fx.login().bind(userId, fx.mint("o-1"));
    const before = fx.fake.stats().jscode2session;
    await expect(fx.login().bind(987654, fx.mint("o-2"))).rejects.toMatchObject({ code: "USER_NOT_FOUND", message: expect.stringContaining("987654") });
    await expect(fx.login().bind(userId, fx.mint("o-2"))).rejects.toMatchObject({ code: "ALREADY_BOUND", status: 409 });
    expect(fx.fake.stats().jscode2session).toBe(before);
  });

  it("refuses an identity bound to another user, and NOT_BOUND for a user without binding", async () => {
    fx = await makeLoginApp();
    const a = await newUser("a");
    const b = await newUser("b");
    await fx.login().bind(a, fx.mint("o-shared"));
    await expect(fx.login().bind(b, fx.mint("o-shared"))).rejects.toMatchObject({ code: "WECHAT_ALREADY_BOUND", status: 409 });
    await expect(fx.login().unbind(b)).rejects.toMatchObject({ code: "NOT_BOUND", message: expect.stringContaining(fx.instances[0]!.appId) });
    expect(await (await storeOf(fx.app)).findBindingByOpenId(fx.instances[0]!.appId, "o-shared")).toMatchObject({ userId: a });
  });

  it("lets exactly one of two users win a concurrent bind of one identity", async () => {
    fx = await makeLoginApp();
    const users = [await newUser("a"), await newUser("b")];
    const outcomes = await Promise.allSettled(users.map((u) => fx!.login().bind(u, fx!.mint("o-contested"))));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    const loser = outcomes.find((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(loser?.reason).toMatchObject({ code: "WECHAT_ALREADY_BOUND" });
  });

  it("lets one user bind one identity per mini program only, even concurrently", async () => {
    fx = await makeLoginApp();
    const userId = await newUser();
    const outcomes = await Promise.allSettled(["o-x", "o-y", "o-z"].map((o) => fx!.login().bind(userId, fx!.mint(o))));
    expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
    for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "ALREADY_BOUND" });
  });

  it("keeps bindings per AppID: unbinding in one mini program leaves the other", async () => {
    fx = await makeLoginApp({ instances: [{ name: "aMini" }, { name: "bMini" }] });
    const userId = await newUser();
    await fx.login("aMini").bind(userId, fx.mint("o-same", { instance: "aMini" }));
    await fx.login("bMini").bind(userId, fx.mint("o-same", { instance: "bMini" }));
    await fx.login("bMini").unbind(userId);
    expect(await fx.login("aMini").getLoginCode(fx.mint("o-same", { instance: "aMini" }))).toMatchObject({ userId });
    expect(await fx.login("bMini").getLoginCode(fx.mint("o-same", { instance: "bMini" }))).toMatchObject({ bindCode: expect.any(String) });
  });

  // Regression: the unionId auto-link in getLoginCode re-created a binding that unbind had
  // just removed, so after unbind the identity logged the same user in again.
  it("keeps an unbound identity unregistered even when its unionId is bound in another mini program", async () => {
    fx = await makeLoginApp({ instances: [{ name: "aMini" }, { name: "bMini", allowRegister: 0 }] });
    const a = fx.login("aMini");
    const b = fx.login("bMini");
    const first = await a.getLoginCode(fx.mint("o-a", { unionId: "u-1", instance: "aMini" }));
    const user = await a.register((first as { bindCode: string }).bindCode);
    const userId = user.userId.value;
    // Same unionId in B: linked to the same user automatically.
    expect(await b.getLoginCode(fx.mint("o-b", { unionId: "u-1", instance: "bMini" }))).toMatchObject({ loginCode: expect.any(String), userId });
    expect(await b.unbind(userId)).toEqual({ success: true });
    await expect(b.getLoginCode(fx.mint("o-b", { unionId: "u-1", instance: "bMini" }))).rejects.toMatchObject({ code: "USER_AUTH_MISS" });
    const store = await storeOf(fx.app);
    expect(await store.findBindingByOpenId(fx.instances[1]!.appId, "o-b")).toBeNull();
    // A still logs the user in; an explicit bind in B lifts the mark and logins work again.
    expect(await a.getLoginCode(fx.mint("o-a", { unionId: "u-1", instance: "aMini" }))).toMatchObject({ userId });
    expect(await b.bind(userId, fx.mint("o-b", { unionId: "u-1", instance: "bMini" }))).toMatchObject({ success: true, openId: "o-b" });
    expect(await store.wasUnbound(fx.instances[1]!.appId, "o-b")).toBe(false);
    expect(await b.getLoginCode(fx.mint("o-b", { unionId: "u-1", instance: "bMini" }))).toMatchObject({ userId });
  });

  // Regression: unbinding did not reach what the identity had issued: a login code minted
  // before unbind still gave a token, and its sessions went on.
  it("unbind voids the login codes and ends the sessions issued through that identity, and only those", async () => {
    fx = await makeLoginApp({ instances: [{ name: "aMini" }, { name: "bMini" }] });
    const [a, b] = [fx.login("aMini"), fx.login("bMini")];
    const store = await storeOf(fx.app);
    const first = (await a.getLoginCode(fx.mint("o-a", { unionId: "u-3", instance: "aMini" }))) as { bindCode: string };
    const registered = (await a.register(first.bindCode)).toJSON();
    const userId = registered.userId;
    const loginCodeOf = async (login: typeof a, instance: string, openId: string) => {
      const r = await login.getLoginCode(fx!.mint(openId, { unionId: "u-3", instance }));
      if (!("loginCode" in r)) throw new Error("expected a login code");
      return r.loginCode;
    };
    const sessionA = await fx.authSvc().loginByCode(registered.loginCode);
    const sessionB = await fx.authSvc().loginByCode(await loginCodeOf(b, "bMini", "o-b"));
    const unusedA = await loginCodeOf(a, "aMini", "o-a");
    const unusedB = await loginCodeOf(b, "bMini", "o-b");
    // Each session knows the login Type and identity that opened it.
    expect((await store.getSession(hashToken(sessionB.token), fx.clock.now()))?.origin).toEqual({
      loginType: fx.instances[1]!.fullName,
      appId: fx.instances[1]!.appId,
      openId: "o-b",
    });

    expect(await b.unbind(userId)).toEqual({ success: true });
    await expect(fx.authSvc().getCurrentUser(sessionB.token)).rejects.toMatchObject({ code: "TOKEN_INVALID" });
    await expect(fx.authSvc().loginByCode(unusedB)).rejects.toMatchObject({ code: "LOGIN_CODE_INVALID" });
    // What mini program A issued stays.
    expect(await fx.authSvc().getCurrentUser(sessionA.token)).toMatchObject({ userId });
    expect(await fx.authSvc().loginByCode(unusedA)).toMatchObject({ userId });
  });

  it("after unbind, register() of the identity creates a new user and lifts the mark", async () => {
    fx = await makeLoginApp({ instances: [{ name: "aMini" }, { name: "bMini" }] });
    const a = fx.login("aMini");
    const b = fx.login("bMini");
    const first = (await a.getLoginCode(fx.mint("o-a", { unionId: "u-2", instance: "aMini" }))) as { bindCode: string };
    const userId = (await a.register(first.bindCode)).userId.value;
    expect(await b.getLoginCode(fx.mint("o-b", { unionId: "u-2", instance: "bMini" }))).toMatchObject({ userId });
    await b.unbind(userId);
    const again = await b.getLoginCode(fx.mint("o-b", { unionId: "u-2", instance: "bMini" }));
    expect(again).toEqual({ bindCode: expect.any(String), expiresIn: 300 });
    const newUserId = (await b.register((again as { bindCode: string }).bindCode)).userId.value;
    expect(newUserId).not.toBe(userId);
    expect(await (await storeOf(fx.app)).wasUnbound(fx.instances[1]!.appId, "o-b")).toBe(false);
    expect(await b.getLoginCode(fx.mint("o-b", { unionId: "u-2", instance: "bMini" }))).toMatchObject({ userId: newUserId });
  });
});
