import { createDecipheriv, createHash, createHmac } from "node:crypto";
import { safeEqual } from "jit-runtime/element";
import { VaultError } from "./errors.ts";

/**
 * WeChat open data (wx.getUserInfo, legacy getPhoneNumber): AES-128-CBC with the user's
 * session_key, PKCS#7. Pure functions; the caller fetches the session key from the vault.
 *
 * Error channels: the input is malformed (ENCRYPTED_DATA_MALFORMED, names the field), the key
 * does not fit the data (SESSION_KEY_STALE: the client must wx.login again and resend), or
 * the data belongs to another mini program (WATERMARK_MISMATCH). Bad padding and non-JSON
 * plaintext give the same error, so the answer is no padding oracle.
 */

type Field = "encryptedData" | "iv" | "sessionKey";

const STRICT_BASE64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/;

/** Standard base64, nothing else: no whitespace, no URL alphabet, canonical padding. */
export function decodeStrictBase64(value: unknown, field: Field): Buffer {
  if (typeof value !== "string") throw new VaultError("ENCRYPTED_DATA_MALFORMED", { field, reason: "must be a base64 string" });
  if (value.length === 0) throw new VaultError("ENCRYPTED_DATA_MALFORMED", { field, reason: "is empty" });
  if (value.includes(" ")) {
    throw new VaultError("ENCRYPTED_DATA_MALFORMED", {
      field,
      reason: "contains a space: a '+' was probably turned into a space by URL/form decoding",
    });
  }
  if (!STRICT_BASE64.test(value)) {
    throw new VaultError("ENCRYPTED_DATA_MALFORMED", { field, reason: "is not standard base64 (characters outside A-Z a-z 0-9 + / =, or bad length/padding)" });
  }
  const bytes = Buffer.from(value, "base64");
  // Non-zero trailing bits decode "fine" in Node but are not what any encoder produced.
  if (bytes.toString("base64") !== value) {
    throw new VaultError("ENCRYPTED_DATA_MALFORMED", { field, reason: "is not canonical base64" });
  }
  return bytes;
}

function stale(): never {
  throw new VaultError("SESSION_KEY_STALE");
}

/** Strips PKCS#7 by hand (autoPadding is off so a wrong key cannot pass unnoticed). */
function unpad(plain: Buffer): Buffer {
  const n = plain[plain.length - 1] ?? 0;
  if (n < 1 || n > 16 || n > plain.length) stale();
  for (let i = plain.length - n; i < plain.length; i++) if (plain[i] !== n) stale();
  return plain.subarray(0, plain.length - n);
}

export interface EncryptedUserData {
  sessionKey: string;
  encryptedData: string;
  iv: string;
  appId: string;
}

/** Decrypts WeChat open data and checks that watermark.appid is this mini program. */
export function decryptUserData(input: EncryptedUserData): Record<string, unknown> {
  const key = decodeStrictBase64(input.sessionKey, "sessionKey");
  if (key.length !== 16) throw new VaultError("ENCRYPTED_DATA_MALFORMED", { field: "sessionKey", reason: `decodes to ${key.length} bytes, expected 16` });
  const iv = decodeStrictBase64(input.iv, "iv");
  if (iv.length !== 16) throw new VaultError("ENCRYPTED_DATA_MALFORMED", { field: "iv", reason: `decodes to ${iv.length} bytes, expected 16` });
  const data = decodeStrictBase64(input.encryptedData, "encryptedData");
  if (data.length % 16 !== 0) {
    throw new VaultError("ENCRYPTED_DATA_MALFORMED", { field: "encryptedData", reason: `decodes to ${data.length} bytes, not a multiple of the 16-byte AES block` });
  }
  const decipher = createDecipheriv("aes-128-cbc", key, iv);
  decipher.setAutoPadding(false);
  const plain = unpad(Buffer.concat([decipher.update(data), decipher.final()]));
  let parsed: unknown;
  try {
    parsed = JSON.parse(new TextDecoder("utf-8", { fatal: true }).decode(plain));
  } catch {
    stale();
  }
  if (!parsed || typeof parsed !== "object" || Array.isArray(parsed)) stale();
  const record = parsed as Record<string, unknown>;
  const watermark = record.watermark as { appid?: unknown } | undefined;
  if (!watermark || typeof watermark !== "object" || watermark.appid !== input.appId) {
    throw new VaultError("WATERMARK_MISMATCH");
  }
  return record;
}

/** rawData integrity: signature = hex sha1(rawData + session_key), compared in constant time. */
export function verifyRawData(input: { sessionKey: string; rawData: string; signature: string }): boolean {
  const { sessionKey, rawData, signature } = input;
  if (typeof sessionKey !== "string" || typeof rawData !== "string" || typeof signature !== "string") return false;
  if (signature.length !== 40) return false;
  const expected = createHash("sha1").update(rawData + sessionKey, "utf8").digest("hex");
  return safeEqual(signature.toLowerCase(), expected);
}

/**
 * The user-state signature of checksession / resetusersessionkey: lowercase hex
 * HMAC-SHA256 keyed with the session_key TEXT as received (not base64-decoded).
 */
export function sessionSignature(sessionKey: string, message = ""): string {
  return createHmac("sha256", sessionKey).update(message, "utf8").digest("hex");
}
