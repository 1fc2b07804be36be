import { randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { createSessionKeyVault } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import type { Store } from "../elements/auths/storage/Store.ts";

/**
 * Guards the write saved on every login where WeChat hands back the session_key it already
 * gave: the vault must skip that write, and only when the stored row is still its own.
 */
function countingStore() {
  const rows = new Map<string, { sealed: string; updatedAt: number }>();
  let writes = 0;
  const store: Pick<Store, "putSessionKey" | "getSessionKey"> = {
    async putSessionKey(appId, openId, sealed, now) {
      writes += 1;
      rows.set(`${appId}\n${openId}`, { sealed, updatedAt: now });
    },
    async getSessionKey(appId, openId) {
      return rows.get(`${appId}\n${openId}`) ?? null;
    },
  };
  return { store, rows, writes: () => writes };
}

const K1 = "tiihtNczf5v6AKRyjwEUhQ==";
const K2 = "HyVFkGl5F5OQWJZZaNzBBg==";

describe("session key vault: unchanged keys", () => {
  it("does not write the same key twice for one user", async () => {
    const { store, writes } = countingStore();
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store });
    await vault.save("wx-a", "o-1", K1);
    await vault.save("wx-a", "o-1", K1);
    await vault.save("wx-a", "o-1", K1);
    expect(writes()).toBe(1);
    expect(await vault.get("wx-a", "o-1")).toBe(K1);
  });

  it("writes a new key, and the same key for another user or mini program", async () => {
    const { store, writes } = countingStore();
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store });
    await vault.save("wx-a", "o-1", K1);
    await vault.save("wx-a", "o-1", K2);
    await vault.save("wx-a", "o-2", K2);
    await vault.save("wx-b", "o-1", K2);
    expect(writes()).toBe(4);
    expect(await vault.get("wx-a", "o-1")).toBe(K2);
  });

  it("writes again when someone else changed the row meanwhile (another process, a restore)", async () => {
    const { store, rows, writes } = countingStore();
    const master = randomBytes(32);
    const vault = createSessionKeyVault({ masterKey: master, store });
    const other = createSessionKeyVault({ masterKey: master, store });
    await vault.save("wx-a", "o-1", K1);
    await other.save("wx-a", "o-1", K2);
    await vault.save("wx-a", "o-1", K1);
    expect(writes()).toBe(3);
    expect(await vault.get("wx-a", "o-1")).toBe(K1);
    rows.clear();
    await vault.save("wx-a", "o-1", K1);
    expect(writes()).toBe(4);
    expect(await vault.get("wx-a", "o-1")).toBe(K1);
  });

  it("remembers a bounded number of users (least recently used go first)", async () => {
    const { store, writes } = countingStore();
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store, rememberMax: 2 });
    await vault.save("wx-a", "o-1", K1);
    await vault.save("wx-a", "o-2", K1);
    await vault.save("wx-a", "o-1", K1); // o-1 becomes the most recent
    await vault.save("wx-a", "o-3", K1); // evicts o-2
    expect(writes()).toBe(3);
    await vault.save("wx-a", "o-1", K1);
    expect(writes()).toBe(3);
    await vault.save("wx-a", "o-2", K1);
    expect(writes()).toBe(4);
  });
});
