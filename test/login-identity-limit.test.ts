import { afterEach, describe, expect, it } from "vitest";
import { createSessionKeyVault } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import { runWithCallContext } from "../runtime/context/callContext.ts";
import { HttpError } from "../runtime/errors/index.ts";
import { makeLoginApp, type LoginFixture } from "./helpers/loginFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/**
 * Regression: the per-identity rate-limit hook (CallContext.limit) ran after WeChat had
 * exchanged the code (and replaced the user's session_key) but before the new key reached
 * the vault, so a refused login left the old, now stale key behind.
 */
const K_OLD = "tiihtNczf5v6AKRyjwEUhQ==";
const K_NEW = "HyVFkGl5F5OQWJZZaNzBBg==";

const refuse = () => {
  throw new HttpError("RATE_LIMITED", { retryAfter: 30 });
};

describe("per-identity limit: the session key is kept even when the call is refused", () => {
  let fx: LoginFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  async function storedKey(openId: string): Promise<string | null> {
    const vault = createSessionKeyVault({ masterKey: Buffer.from(fx!.env.JIT_MASTER_KEY!, "hex"), store: await storeOf(fx!.app) });
    return vault.get(fx!.instances[0]!.appId, openId);
  }

  it("getLoginCode: refused with RATE_LIMITED, the vault holds the new key", async () => {
    fx = await makeLoginApp();
    const login = fx.login();
    await login.getLoginCode(fx.mint("o-busy", { sessionKey: K_OLD }));
    expect(await storedKey("o-busy")).toBe(K_OLD);
    const refused = runWithCallContext({ via: "test", limit: refuse }, () => login.getLoginCode(fx!.mint("o-busy", { sessionKey: K_NEW })));
    await expect(refused).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(await storedKey("o-busy")).toBe(K_NEW);
  });

  it("bind: refused with RATE_LIMITED, no binding, the vault holds the new key", async () => {
    fx = await makeLoginApp();
    const store = await storeOf(fx.app);
    const user = await store.createUser({ name: "b" }, fx.clock.now());
    const refused = runWithCallContext({ via: "test", limit: refuse }, () => fx!.login().bind(user.userId, fx!.mint("o-bind", { sessionKey: K_NEW })));
    await expect(refused).rejects.toMatchObject({ code: "RATE_LIMITED" });
    expect(await store.findBindingByOpenId(fx.instances[0]!.appId, "o-bind")).toBeNull();
    expect(await storedKey("o-bind")).toBe(K_NEW);
  });

  it("reports the refusal, not an unhandled rejection, when the key cannot be saved either", async () => {
    fx = await makeLoginApp();
    const login = fx.login();
    await login.getLoginCode(fx.mint("o-fail", { sessionKey: K_OLD })); // opens the vault
    const unhandled: unknown[] = [];
    const onUnhandled = (reason: unknown) => unhandled.push(reason);
    process.on("unhandledRejection", onUnhandled);
    try {
      // The session key's write fails (the code ledger's writes, before it, still work).
      const store = await storeOf(fx.app);
      store.putSessionKey = () => Promise.reject(new Error("disk full"));
      const refused = runWithCallContext({ via: "test", limit: refuse }, () => login.getLoginCode(fx!.mint("o-fail", { sessionKey: K_NEW })));
      await expect(refused).rejects.toMatchObject({ code: "RATE_LIMITED" });
      await new Promise((resolve) => setImmediate(resolve));
      await new Promise((resolve) => setImmediate(resolve));
    } finally {
      process.off("unhandledRejection", onUnhandled);
    }
    expect(unhandled).toEqual([]);
  });
});
