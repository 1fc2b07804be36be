import { afterEach, describe, expect, it } from "vitest";
import type { WeChatMiniLogin } from "../elements/auths/loginTypes/WeChatMiniType/index.ts";
import { makeLoginApp, type LoginFixture } from "./helpers/loginFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/** Bind codes: issued to unregistered identities, redeemed once by register() within 5 minutes. */
describe("bind codes", () => {
  let fx: LoginFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  async function bindCodeFor(openId: string, unionId?: string): Promise<string> {
    const result = await fx!.login().getLoginCode(fx!.mint(openId, { unionId: unionId ?? null }));
    if (!("bindCode" in result)) throw new Error("expected a bind code");
    return result.bindCode;
  }

  it("is valid until just before 5 minutes, expired from then on, and an expired code is spent", async () => {
    fx = await makeLoginApp();
    const early = await bindCodeFor("o-early");
    fx.clock.advance(299_999);
    expect((await fx.login().register(early)).userId.value).toBeGreaterThan(0);

    const late = await bindCodeFor("o-late");
    fx.clock.advance(300_000);
    await expect(fx.login().register(late)).rejects.toMatchObject({ code: "BIND_CODE_EXPIRED" });
    await expect(fx.login().register(late)).rejects.toMatchObject({ code: "BIND_CODE_INVALID" });
    // The identity is still unregistered and can ask for a new code.
    expect(await fx.login().getLoginCode(fx.mint("o-late"))).toEqual({ bindCode: expect.any(String), expiresIn: 300 });
  });

  it("remembers openId and unionId: the new user is bound to both", async () => {
    fx = await makeLoginApp({ registerCorpId: "team" });
    const user = await fx.login().register(await bindCodeFor("o-remember", "u-remember"));
    const store = await storeOf(fx.app);
    expect(await store.findBindingByUser(fx.instances[0]!.appId, user.userId.value)).toMatchObject({ openId: "o-remember", unionId: "u-remember" });
    expect(await store.findUserIdByUnionId("u-remember")).toBe(user.userId.value);
    // registerCorpName defaults to the corp id.
    expect(user.corpList.value).toEqual([{ corpId: "team", corpName: "team" }]);
  });

  it("creates exactly one user from 20 concurrent register calls over two database connections", async () => {
    fx = await makeLoginApp();
    const code = await bindCodeFor("o-race");
    const second = (await fx.openSecondApp()).getElement<WeChatMiniLogin>(fx.instances[0]!.fullName);
    const outcomes = await Promise.allSettled(Array.from({ length: 20 }, (_, i) => (i % 2 ? second : fx!.login()).register(code)));
    const ok = outcomes.filter((o) => o.status === "fulfilled");
    const refused = outcomes.filter((o): o is PromiseRejectedResult => o.status === "rejected");
    expect(ok).toHaveLength(1);
    expect(refused.map((o) => (o.reason as { code: string }).code)).toEqual(Array(19).fill("BIND_CODE_INVALID"));
    const store = await storeOf(fx.app);
    expect(await store.getUser(2)).toBeNull();
  });

  it("leaves the code usable when the identity was bound meanwhile (WECHAT_ALREADY_BOUND, nothing written)", async () => {
    fx = await makeLoginApp();
    const code = await bindCodeFor("o-taken");
    const store = await storeOf(fx.app);
    const existing = await store.createUser({ name: "existing" }, fx.clock.now());
    await fx.login().bind(existing.userId, fx.mint("o-taken"));
    await expect(fx.login().register(code)).rejects.toMatchObject({ code: "WECHAT_ALREADY_BOUND" });
    expect(await store.getUser(existing.userId + 1)).toBeNull();
    // Still usable: once the identity is free again, the same bind code registers it.
    await fx.login().unbind(existing.userId);
    const user = await fx.login().register(code);
    expect(await store.findBindingByOpenId(fx.instances[0]!.appId, "o-taken")).toMatchObject({ userId: user.userId.value });
  });

  it("is refused by a login type that does not allow registration", async () => {
    fx = await makeLoginApp({ instances: [{ name: "openMini", allowRegister: 1 }, { name: "closedMini", allowRegister: 0 }] });
    const closed = fx.login("closedMini");
    await expect(closed.register("whatever")).rejects.toMatchObject({ code: "USER_AUTH_MISS" });
  });

  // Regression: a bind code minted by one mini program could be redeemed through another
  // instance (another AppID); it now answers BIND_CODE_INVALID there and stays usable.
  it("is only redeemable by the mini program that issued it", async () => {
    fx = await makeLoginApp({ instances: [{ name: "aMini" }, { name: "bMini" }] });
    const result = await fx.login("aMini").getLoginCode(fx.mint("o-a-only", { instance: "aMini" }));
    if (!("bindCode" in result)) throw new Error("expected a bind code");
    await expect(fx.login("bMini").register(result.bindCode)).rejects.toMatchObject({ code: "BIND_CODE_INVALID" });
    expect((await fx.login("aMini").register(result.bindCode)).userId.value).toBeGreaterThan(0);
  });
});
