import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSessionKeyVault } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import { ManualClock } from "../runtime/clock.ts";
import type { Store } from "../elements/auths/storage/Store.ts";
import { VaultError } from "../elements/auths/loginTypes/WeChatMiniType/vault/errors.ts";

/** Only the two Store methods the vault uses; same contract as the SQLite store (upsert, newest wins). */
function memoryStore() {
  const rows = new Map<string, { sealed: string; updatedAt: number }>();
  const store: Pick<Store, "putSessionKey" | "getSessionKey"> = {
    async putSessionKey(appId, openId, sealed, now) {
      rows.set(`${appId}\n${openId}`, { sealed, updatedAt: now });
    },
    async getSessionKey(appId, openId) {
      return rows.get(`${appId}\n${openId}`) ?? null;
    },
  };
  return { store, rows };
}

const SESSION_KEY = "tiihtNczf5v6AKRyjwEUhQ==";

describe("session key vault", () => {
  it("round-trips a session key and stores only the sealed form", async () => {
    const { store, rows } = memoryStore();
    const clock = new ManualClock();
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store, clock });
    await vault.save("wx-a", "o-1", SESSION_KEY);
    expect(await vault.get("wx-a", "o-1")).toBe(SESSION_KEY);
    const row = rows.get("wx-a\no-1")!;
    expect(row.updatedAt).toBe(clock.now());
    expect(row.sealed).toMatch(/^v1\.[A-Za-z0-9_-]{16}\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]{22}$/);
    expect(row.sealed).not.toContain(SESSION_KEY);
    expect(Buffer.from(row.sealed.split(".")[2]!, "base64url").toString("latin1")).not.toContain(SESSION_KEY);
  });

  it("returns null when nothing is stored", async () => {
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store: memoryStore().store });
    expect(await vault.get("wx-a", "o-none")).toBeNull();
  });

  it("the newest key wins", async () => {
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store: memoryStore().store });
    await vault.save("wx-a", "o-1", "old-key-AAAAAAAAAAAAAA==");
    await vault.save("wx-a", "o-1", "new-key-BBBBBBBBBBBBBB==");
    expect(await vault.get("wx-a", "o-1")).toBe("new-key-BBBBBBBBBBBBBB==");
  });

  it("seals with a fresh IV each time", async () => {
    const { store, rows } = memoryStore();
    // rememberMax 0: write even an unchanged key, so both saves seal (see vault-unchanged-key.test.ts).
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store, rememberMax: 0 });
    await vault.save("wx-a", "o-1", SESSION_KEY);
    const first = rows.get("wx-a\no-1")!.sealed;
    await vault.save("wx-a", "o-1", SESSION_KEY);
    expect(rows.get("wx-a\no-1")!.sealed).not.toBe(first);
  });

  it("a row copied to another user or another mini program does not open (AAD)", async () => {
    const { store, rows } = memoryStore();
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store });
    await vault.save("wx-a", "o-1", SESSION_KEY);
    rows.set("wx-a\no-2", rows.get("wx-a\no-1")!);
    rows.set("wx-b\no-1", rows.get("wx-a\no-1")!);
    await expect(vault.get("wx-a", "o-2")).rejects.toMatchObject({ code: "VAULT_SEAL_INVALID" });
    const err = await vault.get("wx-b", "o-1").catch((e: unknown) => e);
    expect(err).toBeInstanceOf(VaultError);
    expect((err as Error).message).toBe("stored session key for mini program wx-b cannot be opened (tampered or sealed with another master key)");
  });

  it("a wrong master key or a tampered row → VAULT_SEAL_INVALID", async () => {
    const { store, rows } = memoryStore();
    await createSessionKeyVault({ masterKey: randomBytes(32), store }).save("wx-a", "o-1", SESSION_KEY);
    const other = createSessionKeyVault({ masterKey: randomBytes(32), store });
    await expect(other.get("wx-a", "o-1")).rejects.toMatchObject({ code: "VAULT_SEAL_INVALID" });

    const masterKey = randomBytes(32);
    const vault = createSessionKeyVault({ masterKey, store });
    await vault.save("wx-a", "o-1", SESSION_KEY);
    const [v, iv, ct, tag] = rows.get("wx-a\no-1")!.sealed.split(".");
    const flipped = Buffer.from(ct!, "base64url");
    flipped[0]! ^= 1;
    for (const sealed of [`${v}.${iv}.${flipped.toString("base64url")}.${tag}`, `v2.${iv}.${ct}.${tag}`, "garbage", `${v}.${iv}.${ct}`]) {
      rows.set("wx-a\no-1", { sealed, updatedAt: 0 });
      await expect(vault.get("wx-a", "o-1")).rejects.toMatchObject({ code: "VAULT_SEAL_INVALID" });
    }
  });

  it("refuses a master key that is not 32 bytes", () => {
    expect(() => createSessionKeyVault({ masterKey: randomBytes(16), store: memoryStore().store })).toThrow(expect.objectContaining({ code: "MASTER_KEY_INVALID", name: "ConfigError" }));
  });
});
