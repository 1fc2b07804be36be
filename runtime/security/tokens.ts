import { createHash, randomBytes, timingSafeEqual } from "node:crypto";

/**
 * Single-use codes (bind, login) and session tokens: 128 bits or more from the CSPRNG,
 * base64url text. Only their SHA-256 hash is ever stored.
 */
export function newSecretToken(bytes = 32): string {
  if (bytes < 16) throw new RangeError("secret tokens carry at least 128 bits");
  return randomBytes(bytes).toString("base64url");
}

/** The stored form of a code or token: lowercase hex SHA-256. */
export function hashToken(token: string): string {
  return createHash("sha256").update(token, "utf8").digest("hex");
}

/** Constant-time comparison of two strings (false when lengths differ). */
export function safeEqual(a: string, b: string): boolean {
  const left = Buffer.from(a, "utf8");
  const right = Buffer.from(b, "utf8");
  return left.length === right.length && timingSafeEqual(left, right);
}
