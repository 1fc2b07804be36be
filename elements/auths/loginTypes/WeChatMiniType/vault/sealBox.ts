import { ConfigError, secureRandomBytes } from "jit-runtime/element";
import { createCipheriv, createDecipheriv, createSecretKey, hkdfSync } from "node:crypto";
import { VaultError } from "./errors.ts";

/**
 * AES-256-GCM sealing of a short secret text under a key derived from the master key with
 * HKDF (one `info` per purpose, so the master key itself is never used directly and each
 * purpose has its own key). Sealed text: "v1.<iv b64url>.<ciphertext b64url>.<tag b64url>".
 * The AAD binds a sealed text to its row, so a row copied elsewhere does not open.
 *
 * Rotation: former master keys (JIT_MASTER_KEY_PREVIOUS) only open; every seal uses the
 * current key, so a text sealed under a former one is sealed again when next written.
 */
export interface SealBox {
  seal(additionalData: Buffer, text: string): string;
  /** Throws a plain Error when the text does not open (format, key or AAD). */
  open(additionalData: Buffer, sealed: string): string;
}

const VERSION = "v1";

export function createSealBox(masterKey: Buffer, info: string, previousMasterKeys: readonly Buffer[] = []): SealBox {
  for (const master of [masterKey, ...previousMasterKeys]) {
    if (!Buffer.isBuffer(master) || master.length !== 32) {
      throw new ConfigError("MASTER_KEY_INVALID", { source: "the vault's master key", reason: "it is not 32 bytes" });
    }
  }
  // KeyObjects: imported once, not from a Buffer on every seal.
  const derive = (master: Buffer) => createSecretKey(Buffer.from(hkdfSync("sha256", master, Buffer.alloc(0), info, 32)));
  const key = derive(masterKey);
  // The current key first: after a rotation most texts are (re)sealed under it.
  const openKeys = [key, ...previousMasterKeys.map(derive)];
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
      // Strict base64url: Buffer.from skips foreign characters and ignores the spare bits of
      // the last one, so a changed character could otherwise decode to the same bytes.
      const decoded = parts.slice(1).map((part) => Buffer.from(part, "base64url"));
      const canonical = parts.length === 4 && parts[0] === VERSION && decoded.every((bytes, i) => bytes.toString("base64url") === parts[i + 1]);
      const [iv, ct, tag] = decoded;
      if (!canonical || iv!.length !== 12 || tag!.length !== 16) throw new Error("format");
      for (const candidate of openKeys) {
        try {
          const decipher = createDecipheriv("aes-256-gcm", candidate, iv!);
          decipher.setAAD(additionalData);
          decipher.setAuthTag(tag!);
          return Buffer.concat([decipher.update(ct!), decipher.final()]).toString("utf8");
        } catch {
          // not this key (or tampered): try the next
        }
      }
      throw new Error("does not open");
    },
  };
}
