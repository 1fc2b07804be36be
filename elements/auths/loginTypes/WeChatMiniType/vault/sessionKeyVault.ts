import { createCipheriv, createDecipheriv, hkdfSync, randomBytes } from "node:crypto";
import { systemClock, type Clock } from "../../../../../runtime/clock.ts";
import { VaultError } from "../../../../../runtime/errors/index.ts";
import type { Store } from "../../../../../runtime/storage/Store.ts";

/**
 * Keeps the newest WeChat session_key per (appId, openId), sealed with AES-256-GCM.
 * Sealed text: "v1.<iv b64url>.<ciphertext b64url>.<tag b64url>". The AAD binds the row to
 * its (appId, openId), so a row copied onto another user does not open.
 * The AES key is derived from the master key with HKDF, so the master key itself is never
 * used directly and other purposes can derive their own keys.
 */

export interface SessionKeyVault {
  save(appId: string, openId: string, sessionKey: string): Promise<void>;
  /** The stored session key, or null when none is stored. Throws VAULT_SEAL_INVALID if the row does not open. */
  get(appId: string, openId: string): Promise<string | null>;
}

const VERSION = "v1";
const INFO = "jit/wechat-session-key-vault/v1";

function aad(appId: string, openId: string): Buffer {
  // JSON keeps the two parts unambiguous ("a"+"bc" ≠ "ab"+"c").
  return Buffer.from(JSON.stringify([VERSION, appId, openId]), "utf8");
}

export function createSessionKeyVault(options: { masterKey: Buffer; store: Pick<Store, "putSessionKey" | "getSessionKey">; clock?: Clock }): SessionKeyVault {
  if (!Buffer.isBuffer(options.masterKey) || options.masterKey.length !== 32) {
    throw new VaultError("MASTER_KEY_INVALID", { source: "the vault's master key", reason: "it is not 32 bytes" });
  }
  const key = Buffer.from(hkdfSync("sha256", options.masterKey, Buffer.alloc(0), INFO, 32));
  const { store } = options;
  const clock = options.clock ?? systemClock;

  function seal(appId: string, openId: string, sessionKey: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", key, iv);
    cipher.setAAD(aad(appId, openId));
    const ct = Buffer.concat([cipher.update(sessionKey, "utf8"), cipher.final()]);
    return [VERSION, iv.toString("base64url"), ct.toString("base64url"), cipher.getAuthTag().toString("base64url")].join(".");
  }

  function open(appId: string, openId: string, sealed: string): string {
    const parts = sealed.split(".");
    try {
      if (parts.length !== 4 || parts[0] !== VERSION) throw new Error("format");
      const iv = Buffer.from(parts[1]!, "base64url");
      const tag = Buffer.from(parts[3]!, "base64url");
      if (iv.length !== 12 || tag.length !== 16) throw new Error("format");
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAAD(aad(appId, openId));
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(parts[2]!, "base64url")), decipher.final()]).toString("utf8");
    } catch {
      throw new VaultError("VAULT_SEAL_INVALID", { appId });
    }
  }

  return {
    async save(appId, openId, sessionKey) {
      await store.putSessionKey(appId, openId, seal(appId, openId, sessionKey), clock.now());
    },
    async get(appId, openId) {
      const row = await store.getSessionKey(appId, openId);
      return row ? open(appId, openId, row.sealed) : null;
    },
  };
}
