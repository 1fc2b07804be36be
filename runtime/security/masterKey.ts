import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import path from "node:path";
import type { Logger } from "../logging/logger.ts";
import { ensurePrivateDir, PRIVATE_FILE_MODE } from "./privateFiles.ts";
import { ConfigError } from "../errors/index.ts";

/**
 * The master key with which families seal secrets at rest (AES-256-GCM). Production sets
 * JIT_MASTER_KEY; development falls back to `<dataDir>/master.key`, created on first use.
 * Error messages name where the key came from, never the key.
 */

export const MASTER_KEY_BYTES = 32;
export const MASTER_KEY_FILE = "master.key";

const HEX = /^[0-9a-fA-F]{64}$/;
const BASE64 = /^[A-Za-z0-9+/]+={0,2}$/;
const BASE64URL = /^[A-Za-z0-9_-]+={0,2}$/;

/** 32 bytes from base64 (standard or URL alphabet) or 64 hex characters. */
export function parseMasterKey(text: string, source: string): Buffer {
  const value = typeof text === "string" ? text.trim() : "";
  if (!value) throw new ConfigError("MASTER_KEY_INVALID", { source, reason: "it is empty" });
  if (HEX.test(value)) return Buffer.from(value, "hex");
  let bytes: Buffer;
  if (BASE64.test(value)) bytes = Buffer.from(value, "base64");
  else if (BASE64URL.test(value)) bytes = Buffer.from(value, "base64url");
  else throw new ConfigError("MASTER_KEY_INVALID", { source, reason: `it is neither base64 nor hex (${value.length} characters)` });
  if (bytes.length !== MASTER_KEY_BYTES) {
    throw new ConfigError("MASTER_KEY_INVALID", { source, reason: `it decodes to ${bytes.length} bytes` });
  }
  return bytes;
}

/**
 * Former master keys, kept to open what they sealed while a rotation is under way:
 * JIT_MASTER_KEY_PREVIOUS, a comma-separated list (newest first) in the same formats as
 * JIT_MASTER_KEY. They only open: every new seal uses JIT_MASTER_KEY, and a value sealed
 * under a former key is sealed again under the current one when it is next written.
 */
export function parsePreviousMasterKeys(env: Readonly<Record<string, string | undefined>> = process.env): Buffer[] {
  const text = env.JIT_MASTER_KEY_PREVIOUS;
  if (text === undefined || text.trim() === "") return [];
  return text.split(",").map((part, i) => parseMasterKey(part, `JIT_MASTER_KEY_PREVIOUS (key ${i + 1})`));
}

let warned = false;

/** Lets tests see the once-per-process warning again. */
export function resetMasterKeyWarning(): void {
  warned = false;
}

function warnOnce(logger: Logger, file: string, created: boolean): void {
  if (warned) return;
  warned = true;
  logger.warn(
    { masterKeyFile: file },
    `${created ? "generated a new master key in" : "using the master key file"} ${file} because JIT_MASTER_KEY is not set; ` +
      "set JIT_MASTER_KEY (32 bytes, base64 or hex) in production and keep it out of the data folder",
  );
}

async function readKeyFile(file: string, logger: Logger): Promise<Buffer> {
  const [text, stat] = await Promise.all([fs.readFile(file, "utf8"), fs.stat(file)]);
  if (process.platform !== "win32" && (stat.mode & 0o077) !== 0) {
    logger.warn({ masterKeyFile: file }, `master key file ${file} is readable by other users: chmod 600 it`);
  }
  return parseMasterKey(text, file);
}

/**
 * JIT_MASTER_KEY if set; else `<dataDir>/master.key`; else a new random key written there
 * with mode 0600. Creation is atomic: the key is written to a temp file and hard-linked into
 * place, which fails if another process won the race, and then its key is read.
 */
export async function loadMasterKey(options: { env?: Record<string, string | undefined>; dataDir: string; logger: Logger }): Promise<Buffer> {
  const env = options.env ?? process.env;
  // Checked with the current key, so a malformed former key stops start-up, not a later login.
  parsePreviousMasterKeys(env);
  if (env.JIT_MASTER_KEY !== undefined && env.JIT_MASTER_KEY !== "") return parseMasterKey(env.JIT_MASTER_KEY, "JIT_MASTER_KEY");
  const file = path.join(options.dataDir, MASTER_KEY_FILE);
  try {
    const key = await readKeyFile(file, options.logger);
    warnOnce(options.logger, file, false);
    return key;
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
  }
  const tightened = await ensurePrivateDir(options.dataDir, { own: true });
  if (tightened.length > 0) options.logger.warn({ files: tightened }, `made ${tightened.join(", ")} readable by its owner only (0700)`);
  const temp = `${file}.${process.pid}.${randomBytes(6).toString("hex")}.tmp`;
  await fs.writeFile(temp, `${randomBytes(MASTER_KEY_BYTES).toString("base64")}\n`, { flag: "wx", mode: PRIVATE_FILE_MODE });
  let created = true;
  try {
    await fs.link(temp, file);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
    created = false; // another process won the race: use its key
  } finally {
    await fs.unlink(temp).catch(() => {});
  }
  const key = await readKeyFile(file, options.logger);
  warnOnce(options.logger, file, created);
  return key;
}
