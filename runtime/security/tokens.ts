import { createHash, randomFillSync, timingSafeEqual } from "node:crypto";

/**
 * CSPRNG bytes drawn from a pool refilled 4 KiB at a time: one randomFillSync per small
 * value costs ~5 µs here (a syscall each), the pool makes it a copy (Node's randomUUID pools
 * the same way). Every byte is handed out once, always as a fresh copy.
 */
const POOL_SIZE = 4096;
const pool = Buffer.alloc(POOL_SIZE);
let poolOffset = POOL_SIZE;

export function secureRandomBytes(size: number): Buffer {
  if (size > POOL_SIZE / 4) return randomFillSync(Buffer.alloc(size));
  if (poolOffset + size > POOL_SIZE) {
    randomFillSync(pool);
    poolOffset = 0;
  }
  const out = Buffer.from(pool.subarray(poolOffset, poolOffset + size));
  // Spent bytes are wiped so the pool never keeps a copy of a token it handed out.
  pool.fill(0, poolOffset, poolOffset + size);
  poolOffset += size;
  return out;
}

/**
 * Single-use codes (bind, login) and session tokens: 128 bits or more from the CSPRNG,
 * base64url text. Only their SHA-256 hash is ever stored.
 */
export function newSecretToken(bytes = 32): string {
  if (bytes < 16) throw new RangeError("secret tokens carry at least 128 bits");
  return secureRandomBytes(bytes).toString("base64url");
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
