import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { isJitError } from "../runtime/errors/index.ts";
import { sessionSignature } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import { makeLoginApp, type LoginFixture } from "./helpers/loginFixture.ts";
import { thrown } from "./helpers/thrown.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/** The known-answer key of WeChat's own documentation: its HMAC over {"foo":"bar"} is pinned in data-crypto.test.ts. */
const KAT_KEY = "o0q0otL8aEzpcZL/FT9WsQ==";

/**
 * checkSessionKey and resetSessionKey against the fake WeChat server, which checks the
 * signature with its own HMAC (keyed by the session_key text, over ""), not the client's code.
 */
describe("session key check and reset", () => {
  let fx: LoginFixture;
  let userId: number;

  beforeAll(async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const first = await fx.login().getLoginCode(fx.mint("o-sk", { sessionKey: KAT_KEY }));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    userId = (await fx.login().register(first.bindCode)).userId.value;
  });
  afterAll(async () => {
    await fx.cleanup();
  });

  it("signs with the known-answer key as WeChat expects: valid with the current key", async () => {
    expect(sessionSignature(KAT_KEY, '{"foo":"bar"}')).toMatch(/^654571f79995b2ce[0-9a-f]{41}432aa0b$/);
    expect(await fx.login().checkSessionKey(userId)).toEqual({ valid: true });
  });

  it("answers { valid: false } (not an error) once WeChat rotated the key", async () => {
    fx.fake.rotateSessionKey(fx.instances[0]!.appId, "o-sk");
    const before = fx.fake.stats().checksession;
    expect(await fx.login().checkSessionKey(userId)).toEqual({ valid: false });
    expect(fx.fake.stats().checksession - before).toBe(1);
  });

  it("reset with a stale stored key is WECHAT_SESSION_KEY_STALE naming the user", async () => {
    const err = await thrown(fx.login().resetSessionKey(userId));
    expect(isJitError(err) && err.code).toBe("WECHAT_SESSION_KEY_STALE");
    expect((err as Error).message).toContain(`user ${userId}`);
  });

  it("reset with the current key stores WeChat's new key: the check passes with it", async () => {
    await fx.login().getLoginCode(fx.mint("o-sk")); // a fresh wx.login: the server holds the current key again
    const appId = fx.instances[0]!.appId;
    const held = fx.fake.sessionKeyOf(appId, "o-sk");
    expect(await fx.login().resetSessionKey(userId)).toEqual({ success: true });
    expect(fx.fake.sessionKeyOf(appId, "o-sk")).not.toBe(held);
    expect(await fx.login().checkSessionKey(userId)).toEqual({ valid: true });
  });

  it("a user not bound in this mini program is NOT_BOUND", async () => {
    const store = await storeOf(fx.app);
    const other = await store.createUser({ name: "nobody" }, fx.clock.now());
    const err = await thrown(fx.login().checkSessionKey(other.userId));
    expect(isJitError(err) && err.code).toBe("NOT_BOUND");
  });

  it("shares one access token across the calls: one stable_token call for all of them", () => {
    expect(fx.fake.stats().stable_token).toBe(1);
  });
});
