import { ElementError } from "jit-runtime/element";
import type { LoginFailureRule, LoginFailureState } from "./Store.ts";

/**
 * Failed-login backoff, the arithmetic both stores apply to a login_failures row (SQLite in
 * its write unit under the write lock, PostgreSQL inside a transaction holding the row's
 * lock), so every process on the database counts with one rule.
 *
 * A key gets `free` failures; the free-th and each later one lock it for
 * `baseMs · 2^(failures − free)`, capped at `maxMs`. Its failures are forgotten `forgetMs`
 * after the last one, once its lock has ended too: `forgetAt` is that instant, and from it the
 * row counts as absent (purgeExpired deletes it).
 */
export interface LoginFailureRow {
  failures: number;
  lockedUntil: number;
  forgetAt: number;
}

/** A login_failures row as both stores read it (times as numbers). */
export interface LoginFailureDbRow {
  failures: number;
  locked_until: number;
  forget_at: number;
}

export function toLoginFailure(row: LoginFailureDbRow): LoginFailureRow {
  return { failures: row.failures, lockedUntil: row.locked_until, forgetAt: row.forget_at };
}

/** The state of the keys whose rows were found (`rows`: key → row), at `now`. */
export function loginFailureStateOf(rows: ReadonlyMap<string, LoginFailureRow>, now: number): LoginFailureState {
  let lockedUntil = 0;
  const failing: string[] = [];
  for (const [key, row] of rows) {
    if (!isLive(row, now)) continue;
    failing.push(key);
    if (row.lockedUntil > now) lockedUntil = Math.max(lockedUntil, row.lockedUntil);
  }
  return { lockedUntil, failing: failing.sort() };
}

/** Doubling stops here: 2^30 times any base is past every cap. */
const MAX_DOUBLINGS = 30;
/** Rule durations are timer-sized (at most ~24.8 days), so `baseMs · 2^30` stays an exact integer. */
const MAX_RULE_MS = 2_147_483_647;
const MAX_KEYS = 16;
const KEY = /^[0-9a-f]{64}$/;

/** A row still counts at `now` (its failures are not forgotten, or its lock runs). */
export function isLive(row: LoginFailureRow | null | undefined, now: number): row is LoginFailureRow {
  return row !== null && row !== undefined && row.forgetAt > now;
}

/** The row after one more failure at `now`. A forgotten row starts again from nothing. */
export function afterFailure(row: LoginFailureRow | null | undefined, rule: Omit<LoginFailureRule, "key">, now: number): LoginFailureRow {
  const live = isLive(row, now) ? row : null;
  const failures = (live?.failures ?? 0) + 1;
  const lockMs = failures >= rule.free ? Math.min(rule.maxMs, rule.baseMs * 2 ** Math.min(MAX_DOUBLINGS, failures - rule.free)) : 0;
  // Never earlier than what is stored: a process whose clock lags cannot shorten a lock or the memory of a failure.
  const lockedUntil = Math.max(live?.lockedUntil ?? 0, lockMs > 0 ? now + lockMs : 0);
  const forgetAt = Math.max(live?.forgetAt ?? 0, now + rule.forgetMs, lockedUntil);
  return { failures, lockedUntil, forgetAt };
}

function invalid(fn: string, argument: string, reason: string): InstanceType<typeof ElementError> {
  return new ElementError("ARGUMENT_INVALID", { argument, function: fn, reason });
}

function requireNow(fn: string, now: number): void {
  if (!Number.isSafeInteger(now) || now < 0) throw invalid(fn, "now", "must be epoch milliseconds (a non-negative integer)");
}

/** 1..16 distinct SHA-256 hex keys, sorted (every process locks rows in one order), else ARGUMENT_INVALID. */
export function requireLoginFailureKeys(fn: string, keys: readonly string[], now?: number): string[] {
  if (now !== undefined) requireNow(fn, now);
  if (!Array.isArray(keys) || keys.length === 0 || keys.length > MAX_KEYS) throw invalid(fn, "keys", `must list 1 to ${MAX_KEYS} keys`);
  for (const key of keys) {
    if (typeof key !== "string" || !KEY.test(key)) throw invalid(fn, "keys", "each key must be a SHA-256 hash (64 lower-case hex characters)");
  }
  const sorted = [...keys].sort();
  if (sorted.some((key, i) => i > 0 && key === sorted[i - 1])) throw invalid(fn, "keys", "must not repeat a key");
  return sorted;
}

/** The rules checked (keys as requireLoginFailureKeys, durations whole milliseconds), sorted by key. */
export function requireLoginFailureRules(fn: string, rules: readonly LoginFailureRule[], now: number): LoginFailureRule[] {
  requireNow(fn, now);
  if (!Array.isArray(rules)) throw invalid(fn, "rules", "must be an array");
  const keys = requireLoginFailureKeys(fn, rules.map((r) => r?.key));
  for (const rule of rules) {
    if (!Number.isSafeInteger(rule.free) || rule.free < 1 || rule.free > 1_000_000) throw invalid(fn, "rules", "free must be an integer from 1 to 1000000");
    for (const name of ["baseMs", "maxMs", "forgetMs"] as const) {
      const value = rule[name];
      if (!Number.isSafeInteger(value) || value < 1 || value > MAX_RULE_MS) throw invalid(fn, "rules", `${name} must be an integer from 1 to ${MAX_RULE_MS}`);
    }
  }
  const byKey = new Map(rules.map((r) => [r.key, r]));
  // Plain data only: a SQLite write unit may be sent to the writer thread.
  return keys.map((key) => {
    const { free, baseMs, maxMs, forgetMs } = byKey.get(key)!;
    return { key, free, baseMs, maxMs, forgetMs };
  });
}
