import { createHash, randomBytes, timingSafeEqual } from "node:crypto";
import { ConfigError } from "../../errors/index.ts";

/**
 * The console's admin credential. Only its SHA-256 is kept; a presented token is hashed and
 * the two digests compared in constant time. From JIT_ADMIN_TOKEN, or generated at start-up
 * and handed back once (`takeGenerated`) for the operator to read on stdout: it never reaches a
 * log line.
 */
export interface AdminToken {
  /** True when `presented` is the admin token. */
  verify(presented: string): boolean;
  /**
   * The generated token the first time (to print once), then null; null when it came from
   * the environment. Only the hash stays in memory afterwards.
   */
  takeGenerated(): string | null;
}

const digest = (value: string) => createHash("sha256").update(value, "utf8").digest();

export function resolveAdminToken(env: Readonly<Record<string, string | undefined>>): AdminToken {
  const configured = env.JIT_ADMIN_TOKEN;
  let generated: string | null = null;
  let hash: Buffer;
  if (configured !== undefined && configured !== "") {
    if (configured.length < 16) throw new ConfigError("CONFIG_INVALID", { source: "JIT_ADMIN_TOKEN", reason: "must be at least 16 characters (e.g. openssl rand -hex 32)" });
    hash = digest(configured);
  } else {
    generated = randomBytes(32).toString("base64url");
    hash = digest(generated);
  }
  return {
    takeGenerated: () => {
      const once = generated;
      generated = null;
      return once;
    },
    verify: (presented) => timingSafeEqual(digest(presented), hash),
  };
}

/** The token of `Authorization: Bearer <token>`, or null. */
export function adminBearer(header: string | undefined): string | null {
  const match = /^Bearer\s+(\S{1,512})\s*$/i.exec(header ?? "");
  return match ? match[1]! : null;
}
