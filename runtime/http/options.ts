import { ConfigError } from "../errors/index.ts";
import type { KeyedLimit } from "../family/types.ts";

/** A fixed-window rate: at most `max` requests per `windowMs`. */
export interface Rate {
  max: number;
  windowMs: number;
}

/** The server's protective limits. Every field has a safe default. */
export interface HttpLimits {
  /** Largest accepted request body in bytes (default 16 KiB). */
  bodyLimit: number;
  /**
   * Per client IP, shared by every function whose `rateLimit` names "ip" (by default every
   * login function, loginRequired 0). Default 60/minute.
   */
  ipRate: Rate | null;
  /** Per logged-in user, shared by every function whose `rateLimit` names "user" (bind). Default 10/minute. */
  userRate: Rate | null;
  /**
   * The per-key limits the app's families declare (FamilyDefinition.limits), by name; set here
   * to override the family's environment variable and default (null: off).
   */
  familyRates: Readonly<Record<string, Rate | null>>;
  /** Most keys each in-memory limit remembers (rateStore.ts). Default 100,000. */
  rateKeys: number;
}

export const DEFAULT_LIMITS: HttpLimits = {
  bodyLimit: 16 * 1024,
  ipRate: { max: 60, windowMs: 60_000 },
  userRate: { max: 10, windowMs: 60_000 },
  familyRates: {},
  rateKeys: 100_000,
};

const UNITS: Record<string, number> = { second: 1000, sec: 1000, s: 1000, minute: 60_000, min: 60_000, m: 60_000, hour: 3_600_000, h: 3_600_000 };

/**
 * Parses "60/minute", "5/10s", "100/hour" or "off". `source` names the setting in errors.
 */
export function parseRate(text: string, source: string): Rate | null {
  const value = text.trim().toLowerCase();
  if (value === "off" || value === "0") return null;
  const match = /^(\d+)\s*\/\s*(\d*)\s*([a-z]+)$/.exec(value);
  const unit = match ? UNITS[match[3]!] : undefined;
  if (!match || unit === undefined || Number(match[1]) < 1) {
    throw new ConfigError("CONFIG_INVALID", { source, reason: `expected "<count>/<second|minute|hour>" (e.g. "60/minute") or "off"` });
  }
  const multiplier = match[2] ? Number(match[2]) : 1;
  if (multiplier < 1) throw new ConfigError("CONFIG_INVALID", { source, reason: "window must be at least 1 unit" });
  return { max: Number(match[1]), windowMs: unit * multiplier };
}

function parseBytes(text: string, source: string): number {
  const match = /^(\d+)\s*(b|kb|kib|k|mb|mib|m)?$/i.exec(text.trim());
  if (!match) throw new ConfigError("CONFIG_INVALID", { source, reason: 'expected a size such as "16384" or "16kb"' });
  const unit = (match[2] ?? "b").toLowerCase();
  const factor = unit.startsWith("k") ? 1024 : unit.startsWith("m") ? 1024 * 1024 : 1;
  const bytes = Number(match[1]) * factor;
  if (bytes < 64) throw new ConfigError("CONFIG_INVALID", { source, reason: "must be at least 64 bytes" });
  return bytes;
}

function parseCount(text: string, source: string): number {
  const value = text.trim();
  if (!/^\d{1,9}$/.test(value) || Number(value) < 100) throw new ConfigError("CONFIG_INVALID", { source, reason: "expected a whole number of keys from 100 to 999999999" });
  return Number(value);
}

/**
 * Effective limits: explicit options win over the environment (JIT_BODY_LIMIT,
 * JIT_RATE_LIMIT_IP, JIT_RATE_LIMIT_USER, JIT_RATE_LIMIT_KEYS, and each family limit's own
 * variable), which wins over the defaults (a family limit's: the family's).
 */
export function resolveLimits(
  options: Partial<HttpLimits> = {},
  env: Readonly<Record<string, string | undefined>> = process.env,
  declared: Readonly<Record<string, KeyedLimit>> = {},
): HttpLimits {
  const fromEnv: Partial<HttpLimits> = {};
  if (env.JIT_BODY_LIMIT) fromEnv.bodyLimit = parseBytes(env.JIT_BODY_LIMIT, "JIT_BODY_LIMIT");
  if (env.JIT_RATE_LIMIT_IP) fromEnv.ipRate = parseRate(env.JIT_RATE_LIMIT_IP, "JIT_RATE_LIMIT_IP");
  if (env.JIT_RATE_LIMIT_USER) fromEnv.userRate = parseRate(env.JIT_RATE_LIMIT_USER, "JIT_RATE_LIMIT_USER");
  if (env.JIT_RATE_LIMIT_KEYS) fromEnv.rateKeys = parseCount(env.JIT_RATE_LIMIT_KEYS, "JIT_RATE_LIMIT_KEYS");
  const pick = <K extends keyof HttpLimits>(key: K): HttpLimits[K] =>
    options[key] !== undefined ? (options[key] as HttpLimits[K]) : fromEnv[key] !== undefined ? (fromEnv[key] as HttpLimits[K]) : DEFAULT_LIMITS[key];
  return {
    bodyLimit: pick("bodyLimit"),
    ipRate: pick("ipRate"),
    userRate: pick("userRate"),
    familyRates: Object.fromEntries(
      Object.entries(declared).map(([name, limit]) => {
        const explicit = options.familyRates?.[name];
        if (explicit !== undefined) return [name, explicit];
        const fromVariable = env[limit.env];
        return [name, fromVariable ? parseRate(fromVariable, limit.env) : parseRate(limit.default, `the default of limit "${name}"`)];
      }),
    ),
    rateKeys: pick("rateKeys"),
  };
}

/**
 * Whose address is the client's: JIT_TRUST_PROXY unset → the socket's (direct exposure);
 * "true" → every proxy is trusted (the left-most X-Forwarded-For); otherwise a comma list of
 * the proxies' addresses/CIDRs (compiled by trust.ts). It matters for the per-IP limit and
 * the request id behind a proxy.
 */
export function resolveTrustProxy(value: string | undefined): boolean | string[] {
  if (value === undefined || value.trim() === "" || value === "false" || value === "0") return false;
  if (value === "true") return true;
  return value.split(",").map((s) => s.trim()).filter(Boolean);
}
