import { readFile } from "node:fs/promises";
import { afterEach, describe, expect, it } from "vitest";
import { runWithCallContext } from "../runtime/context/callContext.ts";
import { makeLoginApp, type LoginFixture } from "./helpers/loginFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/** AuthSvc: login code → session token; the token is the caller's identity until logout or expiry. */
describe("AuthSvc sessions", () => {
  let fx: LoginFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  async function session(openId = "o-1") {
    const login = fx!.login();
    const first = await login.getLoginCode(fx!.mint(openId));
    if ("bindCode" in first) await login.register(first.bindCode);
    const second = await login.getLoginCode(fx!.mint(openId));
    if (!("loginCode" in second)) throw new Error("expected a login code");
    return { loginCode: second.loginCode, ...(await fx!.authSvc().loginByCode(second.loginCode)) };
  }

  it("declares loginByCode public and getCurrentUser/logout for logged-in callers", async () => {
    fx = await makeLoginApp();
    const define = fx.app.getElementDefine("auths.loginTypes.services.AuthSvc");
    expect(define.kind).toBe("instance");
    expect(define.type).toBe("services.NormalType");
    expect(define.functionList.map((f) => [f.name, f.args.map((a) => a.name), f.loginRequired])).toEqual([
      ["loginByCode", ["loginCode", "corpId", "platform"], 0],
      ["getCurrentUser", [], 1],
      ["logout", [], 1],
    ]);
    expect(define.config.sessionTtlSeconds).toBe(604_800);
  });

  it("keeps a session 7 days by default, then refuses its token", async () => {
    fx = await makeLoginApp();
    const s = await session();
    expect(s.expiresAt).toBe(fx.clock.now() + 604_800_000);
    fx.clock.advance(604_800_000 - 1);
    expect(await fx.authSvc().getCurrentUser(s.token)).toMatchObject({ userId: s.userId });
    fx.clock.advance(1);
    await expect(fx.authSvc().getCurrentUser(s.token)).rejects.toMatchObject({ code: "TOKEN_INVALID", status: 401 });
    await expect(fx.authSvc().logout(s.token)).rejects.toMatchObject({ code: "TOKEN_INVALID" });
  });

  it("reads the caller's token from the call context; an explicit token wins", async () => {
    fx = await makeLoginApp();
    const a = await session("o-a");
    const b = await session("o-b");
    const svc = fx.authSvc();
    expect(await runWithCallContext({ via: "http", token: a.token }, () => svc.getCurrentUser())).toMatchObject({ userId: a.userId });
    expect(await runWithCallContext({ via: "http", token: a.token }, () => svc.getCurrentUser(b.token))).toMatchObject({ userId: b.userId });
    await expect(runWithCallContext({ via: "http" }, () => svc.getCurrentUser())).rejects.toMatchObject({ code: "LOGIN_REQUIRED" });
    expect(await runWithCallContext({ via: "http", token: a.token }, () => svc.logout())).toEqual({ success: true });
    await expect(svc.getCurrentUser(a.token)).rejects.toMatchObject({ code: "TOKEN_INVALID" });
    // Logging one session out leaves the other.
    expect(await svc.getCurrentUser(b.token)).toMatchObject({ userId: b.userId });
  });

  // Regression: a wrong corpId spent the login code (CORP_NOT_MEMBER, then
  // LOGIN_CODE_INVALID with the right corp).
  it("refuses a corpId the user is not in with CORP_NOT_MEMBER and keeps the login code for the right one", async () => {
    fx = await makeLoginApp({ registerCorpId: "acme", registerCorpName: "Acme" });
    const store = await storeOf(fx.app);
    await store.upsertCorp({ corpId: "elsewhere", corpName: "Elsewhere" });
    const login = fx.login();
    const first = await login.getLoginCode(fx.mint("o-corp"));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    const { loginCode, userId } = (await login.register(first.bindCode)).toJSON();
    for (const corpId of ["elsewhere", "no-such-corp"]) {
      await expect(fx.authSvc().loginByCode(loginCode, corpId)).rejects.toMatchObject({ code: "CORP_NOT_MEMBER", status: 403 });
    }
    expect(await fx.authSvc().loginByCode(loginCode, "acme")).toMatchObject({ userId, corpId: "acme" });
    await expect(fx.authSvc().loginByCode(loginCode, "acme")).rejects.toMatchObject({ code: "LOGIN_CODE_INVALID" });
  });

  it("logs out once: a second logout is TOKEN_INVALID", async () => {
    fx = await makeLoginApp();
    const s = await session();
    expect(await fx.authSvc().logout(s.token)).toEqual({ success: true });
    await expect(fx.authSvc().logout(s.token)).rejects.toMatchObject({ code: "TOKEN_INVALID" });
  });

  it("stores tokens and codes only as hashes", async () => {
    fx = await makeLoginApp();
    const s = await session();
    const bytes = Buffer.concat(await Promise.all([fx.dbFile, `${fx.dbFile}-wal`].map((f) => readFile(f).catch(() => Buffer.alloc(0)))));
    expect(bytes.length).toBeGreaterThan(0);
    expect(bytes.includes(s.token)).toBe(false);
    expect(bytes.includes(s.loginCode)).toBe(false);
  });
});
