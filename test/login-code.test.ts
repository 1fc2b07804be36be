import { afterEach, describe, expect, it } from "vitest";
import type { AuthService } from "../elements/auths/loginTypes/services/AuthSvc/index.ts";
import { AUTH_SVC, makeLoginApp, type LoginFixture } from "./helpers/loginFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/** Login codes: issued to registered users by getLoginCode, spent once by AuthSvc.loginByCode within 5 minutes. */
describe("login codes", () => {
  let fx: LoginFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  async function registered(openId: string): Promise<number> {
    const first = await fx!.login().getLoginCode(fx!.mint(openId));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    return (await fx!.login().register(first.bindCode)).userId.value;
  }
  async function loginCodeFor(openId: string): Promise<string> {
    const result = await fx!.login().getLoginCode(fx!.mint(openId));
    if (!("loginCode" in result)) throw new Error("expected a login code");
    return result.loginCode;
  }

  it("is valid until just before 5 minutes, expired from then on, and an expired code is spent", async () => {
    fx = await makeLoginApp();
    await registered("o-1");
    const early = await loginCodeFor("o-1");
    fx.clock.advance(299_999);
    expect(await fx.authSvc().loginByCode(early)).toMatchObject({ token: expect.any(String) });
    const late = await loginCodeFor("o-1");
    fx.clock.advance(300_000);
    await expect(fx.authSvc().loginByCode(late)).rejects.toMatchObject({ code: "LOGIN_CODE_EXPIRED" });
    await expect(fx.authSvc().loginByCode(late)).rejects.toMatchObject({ code: "LOGIN_CODE_INVALID" });
  });

  it("opens exactly one session from 20 concurrent loginByCode calls over two database connections", async () => {
    fx = await makeLoginApp();
    const userId = await registered("o-race");
    const code = await loginCodeFor("o-race");
    const second = (await fx.openSecondApp()).getElement<AuthService>(AUTH_SVC);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? second : fx!.authSvc()).loginByCode(code)));
    const ok = outcomes.filter((o): o is PromiseFulfilledResult<Awaited<ReturnType<AuthService["loginByCode"]>>> => o.status === "fulfilled");
    expect(ok).toHaveLength(1);
    expect(ok[0]!.value.userId).toBe(userId);
    for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "LOGIN_CODE_INVALID" });
  });

  it("lists the user's organisations and opens the session in the chosen one", async () => {
    fx = await makeLoginApp({ registerCorpId: "alpha", registerCorpName: "Alpha" });
    const userId = await registered("o-corp");
    const store = await storeOf(fx.app);
    await store.upsertCorp({ corpId: "beta", corpName: "Beta" });
    await store.addCorpMember("beta", userId, fx.clock.now());

    const result = await fx.login().getLoginCode(fx.mint("o-corp"));
    expect(result).toMatchObject({ corpList: expect.arrayContaining([{ corpId: "alpha", corpName: "Alpha" }, { corpId: "beta", corpName: "Beta" }]) });
    if (!("loginCode" in result)) throw new Error("expected a login code");
    expect(await fx.authSvc().loginByCode(result.loginCode, "beta", "mp-weixin")).toMatchObject({ userId, corpId: "beta" });
    // Omitted corpId: the first organisation of the list.
    const first = (await store.listUserCorps(userId))[0]!.corpId;
    expect(await fx.authSvc().loginByCode(await loginCodeFor("o-corp"))).toMatchObject({ corpId: first });
    await expect(fx.authSvc().loginByCode(await loginCodeFor("o-corp"), "gamma")).rejects.toMatchObject({ code: "CORP_NOT_MEMBER" });
  });

  it("gives users without an organisation an empty corpList and a session with corpId null", async () => {
    fx = await makeLoginApp();
    const userId = await registered("o-solo");
    const result = await fx.login().getLoginCode(fx.mint("o-solo"));
    expect(result).toEqual({ loginCode: expect.any(String), corpList: [], userId, expiresIn: 300 });
    if (!("loginCode" in result)) throw new Error("unreachable");
    expect(await fx.authSvc().loginByCode(result.loginCode)).toMatchObject({ userId, corpId: null });
  });
});
