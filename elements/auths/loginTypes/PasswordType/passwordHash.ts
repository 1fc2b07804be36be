import { randomBytes, scrypt, timingSafeEqual, type ScryptOptions } from "node:crypto";

/**
 * Password hashes: scrypt from node:crypto (memory-hard, OWASP ASVS 5.0 V11.4), stored as a
 * PHC string that carries its parameters, `$scrypt$ln=16,r=8,p=2$<salt>$<hash>` (base64
 * without padding), so the parameters can be raised later: a login whose stored hash is
 * weaker than the configured parameters stores a new hash (needsRehash).
 *
 * The hash runs on libuv's thread pool (async scrypt), never on the event loop.
 */

export interface ScryptParams {
  /** log2 of N, the CPU/memory cost. */
  ln: number;
  r: number;
  p: number;
}

/** OWASP's scrypt setting N=2^16, r=8, p=2 (64 MiB, one of its equivalent minimums). */
export const DEFAULT_PARAMS: ScryptParams = { ln: 16, r: 8, p: 2 };
const SALT_BYTES = 16;
const KEY_BYTES = 32;
const PHC = /^\$scrypt\$ln=(\d{1,2}),r=(\d{1,2}),p=(\d{1,2})\$([A-Za-z0-9+/]+)\$([A-Za-z0-9+/]+)$/;

function derive(password: string, salt: Buffer, params: ScryptParams, keyLength: number): Promise<Buffer> {
  const N = 2 ** params.ln;
  // scrypt needs 128·N·r bytes (plus a little): allow that much, not Node's 32 MiB default.
  const options: ScryptOptions = { N, r: params.r, p: params.p, maxmem: 128 * N * params.r + 16 * 1024 * 1024 };
  return new Promise((resolve, reject) => scrypt(password.normalize("NFKC"), salt, keyLength, options, (err, key) => (err ? reject(err) : resolve(key))));
}

const b64 = (buf: Buffer) => buf.toString("base64").replace(/=+$/, "");

/** A new PHC string for `password` (NFKC-normalised first, so one typed password has one form). */
export async function hashPassword(password: string, params: ScryptParams = DEFAULT_PARAMS): Promise<string> {
  const salt = randomBytes(SALT_BYTES);
  const key = await derive(password, salt, params, KEY_BYTES);
  return `$scrypt$ln=${params.ln},r=${params.r},p=${params.p}$${b64(salt)}$${b64(key)}`;
}

interface Parsed {
  params: ScryptParams;
  salt: Buffer;
  key: Buffer;
}

function parse(stored: string): Parsed | null {
  const m = PHC.exec(stored);
  if (!m) return null;
  return { params: { ln: Number(m[1]), r: Number(m[2]), p: Number(m[3]) }, salt: Buffer.from(m[4]!, "base64"), key: Buffer.from(m[5]!, "base64") };
}

/** True when `password` matches `stored`; compared in constant time. An unreadable hash never matches. */
export async function verifyPassword(password: string, stored: string): Promise<boolean> {
  const parsed = parse(stored);
  if (!parsed || parsed.key.length === 0) return false;
  const key = await derive(password, parsed.salt, parsed.params, parsed.key.length);
  return timingSafeEqual(key, parsed.key);
}

/** True when `stored` was made with weaker parameters than `params` (or cannot be read). */
export function needsRehash(stored: string, params: ScryptParams): boolean {
  const parsed = parse(stored);
  if (!parsed) return true;
  const { ln, r, p } = parsed.params;
  return ln < params.ln || r < params.r || p < params.p;
}
