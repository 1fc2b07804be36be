import { createHmac, createSecretKey, randomBytes } from "node:crypto";
import { systemClock, type Clock } from "jit-runtime/element";
import { createSealBox } from "./sealBox.ts";
import { VaultError } from "./errors.ts";
import type { Store } from "../../../storage/Store.ts";

/**
 * Keeps the newest WeChat session_key per (appId, openId), sealed with AES-256-GCM.
 * (sealBox.ts). The AAD binds the row to its (appId, openId), so a row copied onto another
 * user does not open.
 *
 * Unchanged keys are not written again: WeChat often answers a new wx.login code with the
 * session_key it already gave. The vault remembers, per (appId, openId), an HMAC of the last
 * key it stored (HMAC key: random per vault, never stored) and the sealed text it wrote. A
 * save whose HMAC matches AND whose stored row is still exactly that sealed text (nobody,
 * in this process or another, wrote since) costs one indexed read instead of a seal and a
 * committed write. The clear key is never kept; the memory is a bounded LRU.
 */

export interface SessionKeyVault {
  save(appId: string, openId: string, sessionKey: string): Promise<void>;
  /** The stored session key, or null when none is stored. Throws VAULT_SEAL_INVALID if the row does not open. */
  get(appId: string, openId: string): Promise<string | null>;
  /**
   * Seals another server-side secret of mini program `appId` under the vault's key, bound to
   * `slot` (its row's key, e.g. a wx.login code's hash): it opens only for the same two.
   */
  sealText(appId: string, slot: string, text: string): string;
  /** Opens what sealText sealed for the same appId and slot; VAULT_SEAL_INVALID otherwise. */
  openText(appId: string, slot: string, sealed: string): string;
}

const VERSION = "v1";
const INFO = "jit/wechat-session-key-vault/v1";
/** Users whose last stored key the vault remembers (about 150 bytes each). */
export const VAULT_REMEMBERED_MAX = 50_000;

function aad(appId: string, openId: string): Buffer {
  // JSON keeps the two parts unambiguous ("a"+"bc" ≠ "ab"+"c").
  return Buffer.from(JSON.stringify([VERSION, appId, openId]), "utf8");
}

/** Other secrets' context: a "text" tag, so it never equals a session key's [v1, appId, openId]. */
function textAad(appId: string, slot: string): Buffer {
  return Buffer.from(JSON.stringify([VERSION, "text", appId, slot]), "utf8");
}

export function createSessionKeyVault(options: {
  masterKey: Buffer;
  /** Former master keys (JIT_MASTER_KEY_PREVIOUS): they only open, so a row is resealed under the current key on its next save. */
  previousMasterKeys?: readonly Buffer[];
  store: Pick<Store, "putSessionKey" | "getSessionKey">;
  clock?: Clock;
  /** How many users' last stored key to remember (0 = always write). */
  rememberMax?: number;
}): SessionKeyVault {
  const box = createSealBox(options.masterKey, INFO, options.previousMasterKeys);
  const { store } = options;
  const clock = options.clock ?? systemClock;
  const rememberMax = options.rememberMax ?? VAULT_REMEMBERED_MAX;
  const markKey = createSecretKey(randomBytes(32));
  // Map order = least recently used first.
  const remembered = new Map<string, { mark: string; sealed: string }>();

  function mark(additionalData: Buffer, sessionKey: string): string {
    return createHmac("sha256", markKey).update(additionalData).update(sessionKey, "utf8").digest("base64url");
  }

  function remember(slot: string, entry: { mark: string; sealed: string }): void {
    if (rememberMax <= 0) return;
    remembered.delete(slot);
    remembered.set(slot, entry);
    if (remembered.size > rememberMax) remembered.delete(remembered.keys().next().value as string);
  }

  function open(additionalData: Buffer, appId: string, sealed: string): string {
    try {
      return box.open(additionalData, sealed);
    } catch {
      throw new VaultError("VAULT_SEAL_INVALID", { appId });
    }
  }

  return {
    async save(appId, openId, sessionKey) {
      const slot = `${appId}\u0000${openId}`;
      const additionalData = aad(appId, openId);
      const fingerprint = mark(additionalData, sessionKey);
      const last = remembered.get(slot);
      if (last && last.mark === fingerprint) {
        const row = await store.getSessionKey(appId, openId);
        if (row && row.sealed === last.sealed) {
          remember(slot, last);
          return;
        }
      }
      const sealed = box.seal(additionalData, sessionKey);
      await store.putSessionKey(appId, openId, sealed, clock.now());
      remember(slot, { mark: fingerprint, sealed });
    },
    async get(appId, openId) {
      const row = await store.getSessionKey(appId, openId);
      return row ? open(aad(appId, openId), appId, row.sealed) : null;
    },
    sealText(appId, slot, text) {
      return box.seal(textAad(appId, slot), text);
    },
    openText(appId, slot, sealed) {
      return open(textAad(appId, slot), appId, sealed);
    },
  };
}
