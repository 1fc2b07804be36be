import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync } from "node:crypto";
import { VaultError } from "#runtime/errors/index.ts";
import { secureRandomBytes } from "#runtime/security/tokens.ts";

/**
 * AES-256-GCM sealing of a short secret text under a key derived from the master key with
 * HKDF (one `info` per purpose, so the master key itself is never used directly and each
 * purpose has its own key). Sealed text: "v1.<iv b64url>.<ciphertext b64url>.<tag b64url>".
 * The AAD binds a sealed text to its row, so a row copied elsewhere does not open.
 */
export interface SealBox {
  seal(additionalData: Buffer, text: string): string;
  /** Throws a plain Error when the text does not open (format, key or AAD). */
  open(additionalData: Buffer, sealed: string): string;
}

const VERSION = "v1";

export function createSealBox(masterKey: Buffer, info: string): SealBox {
  if (!Buffer.isBuffer(masterKey) || masterKey.length !== 32) {
    throw new VaultError("MASTER_KEY_INVALID", { source: "the vault's master key", reason: "it is not 32 bytes" });
  }
  // A KeyObject: imported once, not from a Buffer on every seal.
  const key = createSecretKey(Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), info, 32)));
  return {
    seal(additionalData, text) {
      const iv = secureRandomBytes(12);
      const cipher = createCipheriv("aes-256-gcm", key, iv);
      cipher.setAAD(additionalData);
      const head = cipher.update(text, "utf8");
      const tail = cipher.final(); // empty for GCM (a stream mode); kept for correctness
      const ct = tail.length === 0 ? head : Buffer.concat([head, tail]);
      return `${VERSION}.${iv.toString("base64url")}.${ct.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}`;
    },
    open(additionalData, sealed) {
      const parts = sealed.split(".");
      if (parts.length !== 4 || parts[0] !== VERSION) throw new Error("format");
      const iv = Buffer.from(parts[1]!, "base64url");
      const tag = Buffer.from(parts[3]!, "base64url");
      if (iv.length !== 12 || tag.length !== 16) throw new Error("format");
      const decipher = createDecipheriv("aes-256-gcm", key, iv);
      decipher.setAAD(additionalData);
      decipher.setAuthTag(tag);
      return Buffer.concat([decipher.update(Buffer.from(parts[2]!, "base64url")), decipher.final()]).toString("utf8");
    },
  };
}
