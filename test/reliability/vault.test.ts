import { createHash, randomBytes } from "node:crypto";
import { afterAll, describe, expect, it } from "vitest";
import { createSessionKeyVault } from "../../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import type { WeChatMiniLogin } from "../../elements/auths/loginTypes/WeChatMiniType/index.ts";
import { loadApp } from "../../runtime/app/loadApp.ts";
import { isJitError } from "../../runtime/errors/index.ts";
import { createLogger } from "../../runtime/logging/logger.ts";
import { makeLoginApp, TEST_APP_ID, type LoginFixture } from "../helpers/loginFixture.ts";
import { recordFigures, type Figure } from "./figures.ts";
import { scaled } from "./scale.ts";
import { storeOf } from "../../elements/auths/storage/storeOf.ts";

// The session-key vault under numbers: unique IVs over many seals, every flipped bit of a
// sealed value refused, and master key rotation (JIT_MASTER_KEY_PREVIOUS) end to end.
const SEALS = scaled(100_000, 2_000);
const FLIPPED_VALUES = scaled(50, 2);

function memoryStore() {
  const rows = new Map<string, string>();
  return {
    rows,
    putSessionKey: async (appId: string, openId: string, sealed: string) => void rows.set(`${appId}/${openId}`, sealed),
    getSessionKey: async (appId: string, openId: string) => {
      const sealed = rows.get(`${appId}/${openId}`);
      return sealed === undefined ? null : { sealed, updatedAt: 0 };
    },
  };
}

function refusedAsTampered(err: unknown): boolean {
  return isJitError(err) && err.code === "VAULT_SEAL_INVALID";
}

const figures: Figure[] = [];

describe("vault", () => {
  afterAll(() => recordFigures("vault", figures));

  it(`${SEALS} seals: no IV repeats`, { timeout: 300_000 }, async () => {
    const store = memoryStore();
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store: store as never, rememberMax: 0 });
    const ivs = new Set<string>();
    let repeats = 0;
    for (let i = 0; i < SEALS; i++) {
      // One user and one key: the vault seals again each time (rememberMax 0), as a worst case for IV reuse.
      await vault.save("wxapp", "openid", "same-session-key");
      const iv = store.rows.get("wxapp/openid")!.split(".")[1]!;
      if (ivs.has(iv)) repeats++;
      ivs.add(iv);
    }
    figures.push({ part: "vault: IVs", tried: `${SEALS.toLocaleString("en")} seals of one key for one user`, held: `${repeats} repeated IVs`, ok: repeats === 0 });
    expect(repeats).toBe(0);
  });

  it("refuses every single flipped bit of a sealed value with VAULT_SEAL_INVALID", async () => {
    const store = memoryStore();
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store: store as never });
    let flips = 0;
    let accepted = 0;
    let otherErrors = 0;
    for (let v = 0; v < FLIPPED_VALUES; v++) {
      await vault.save("wxapp", `openid-${v}`, randomBytes(16).toString("base64"));
      const sealed = store.rows.get(`wxapp/openid-${v}`)!;
      for (let i = 0; i < sealed.length; i++) {
        for (let bit = 0; bit < 8; bit++) {
          const flipped = sealed.slice(0, i) + String.fromCharCode(sealed.charCodeAt(i) ^ (1 << bit)) + sealed.slice(i + 1);
          store.rows.set(`wxapp/openid-${v}`, flipped);
          flips++;
          try {
            await vault.get("wxapp", `openid-${v}`);
            accepted++;
          } catch (err) {
            if (!refusedAsTampered(err)) otherErrors++;
          }
        }
      }
      store.rows.set(`wxapp/openid-${v}`, sealed);
      expect(await vault.get("wxapp", `openid-${v}`)).toBeTruthy();
    }
    figures.push({ part: "vault: tampering", tried: `${flips.toLocaleString("en")} single-bit flips (every bit of ${FLIPPED_VALUES} sealed values)`, held: `${accepted} opened; ${otherErrors} refused with another error than VAULT_SEAL_INVALID`, ok: accepted === 0 && otherErrors === 0 });
    expect({ accepted, otherErrors }).toEqual({ accepted: 0, otherErrors: 0 });
  });

  describe("master key rotation through the login element", () => {
    let fx: LoginFixture;
    afterAll(async () => fx?.cleanup());

    it("JIT_MASTER_KEY_PREVIOUS opens old rows, the next write reseals them, and the old key can then go", async () => {
      fx = await makeLoginApp();
      const oldKey = fx.env.JIT_MASTER_KEY!;
      const newKey = randomBytes(32).toString("base64");
      const sessionKey = randomBytes(16).toString("base64");
      const rawData = '{"nickName":"rotation"}';
      const signature = createHash("sha1").update(rawData + sessionKey).digest("hex");
      const sealedRow = async () => (await (await storeOf(fx.app)).getSessionKey(fx.instances[0]!.appId, "rotating"))!.sealed;

      const first = await fx.login().getLoginCode(fx.mint("rotating", { sessionKey }));
      const userId = (await fx.login().register((first as { bindCode: string }).bindCode)).toJSON().userId as number;
      const underOldKey = await sealedRow();

      const open = (env: Record<string, string>) =>
        loadApp({ root: fx.root, appId: TEST_APP_ID, dbFile: fx.dbFile, clock: fx.clock, env: { WECHAT_API_BASE: fx.fake.url, ...env }, logger: createLogger({ level: "silent" }) });
      const verify = (app: Awaited<ReturnType<typeof open>>) => app.getElement<WeChatMiniLogin>(fx.instances[0]!.fullName).verifyRawData(userId, rawData, signature);

      // The new key alone cannot open the row: that is what the previous key is for.
      const newOnly = await open({ JIT_MASTER_KEY: newKey });
      await expect(verify(newOnly)).rejects.toMatchObject({ code: "VAULT_SEAL_INVALID" });
      await newOnly.close();

      const rotating = await open({ JIT_MASTER_KEY: newKey, JIT_MASTER_KEY_PREVIOUS: oldKey });
      expect(await verify(rotating)).toEqual({ valid: true });
      expect(await sealedRow()).toBe(underOldKey); // reading does not write
      // The next write (a login stores the session key again) seals under the new key.
      await rotating.getElement<WeChatMiniLogin>(fx.instances[0]!.fullName).getLoginCode(fx.mint("rotating", { sessionKey }));
      expect(await sealedRow()).not.toBe(underOldKey);
      await rotating.close();

      const retired = await open({ JIT_MASTER_KEY: newKey });
      expect(await verify(retired)).toEqual({ valid: true });
      await retired.close();

      // A malformed former key is named at start-up, never echoed.
      const bad = await open({ JIT_MASTER_KEY: newKey, JIT_MASTER_KEY_PREVIOUS: "not-a-key" });
      await expect(bad.getMasterKey()).rejects.toMatchObject({ code: "MASTER_KEY_INVALID", message: expect.stringContaining("JIT_MASTER_KEY_PREVIOUS") });
      await bad.close();
      figures.push({ part: "vault: rotation", tried: "seal under key A; serve with key B + JIT_MASTER_KEY_PREVIOUS=A; log in; serve with key B alone", held: "old row readable with A as previous; resealed under B by the next login; readable with B alone", ok: true });
    });
  });
});
