/**
 * The password lockout's rules and keys (lockout.ts) and the backoff arithmetic the stores
 * apply (elements/auths/storage/loginFailures.ts), as pure functions. The stores' side is in the
 * store contract; the element's in password-login.test.ts.
 */
import { describe, expect, it } from "vitest";
import { failureRules, LOGIN_RULES, loginKeys, retryAfterSeconds } from "../elements/auths/loginTypes/PasswordType/lockout.ts";
import { afterFailure, isLive, type LoginFailureRow } from "../elements/auths/storage/loginFailures.ts";

const T0 = Date.UTC(2026, 0, 1);
const SEC = 1000;
const MIN = 60 * SEC;

/** The lock each of `n` failures, one right after the lock before it ended, answers (seconds; 0: none). */
function locks(rule: (typeof LOGIN_RULES)[keyof typeof LOGIN_RULES], n: number): number[] {
  let row: LoginFailureRow | null = null;
  let now = T0;
  const out: number[] = [];
  for (let i = 0; i < n; i++) {
    row = afterFailure(row, rule, now);
    out.push(row.lockedUntil > now ? (row.lockedUntil - now) / SEC : 0);
    now = Math.max(now + 1, row.lockedUntil);
  }
  return out;
}

describe("password lockout rules", () => {
  it("a username from one address: 5 free failures, the 5th locks 30 s, doubling to 15 min", () => {
    expect(locks(LOGIN_RULES.pair, 12)).toEqual([0, 0, 0, 0, 30, 60, 120, 240, 480, 900, 900, 900]);
  });

  it("a username from every address: 20 free, the same backoff", () => {
    const seen = locks(LOGIN_RULES.user, 26);
    expect(seen.slice(0, 19)).toEqual(Array(19).fill(0));
    expect(seen.slice(19)).toEqual([30, 60, 120, 240, 480, 900, 900]);
  });

  it("an address: 50 free, 1 min doubling to 15 min", () => {
    const seen = locks(LOGIN_RULES.address, 56);
    expect(seen.slice(0, 49)).toEqual(Array(49).fill(0));
    expect(seen.slice(49)).toEqual([60, 120, 240, 480, 900, 900, 900]);
  });

  it("forgets a day after the last failure (an address: an hour), then counts from nothing", () => {
    let row = afterFailure(null, LOGIN_RULES.pair, T0);
    for (let i = 1; i < 4; i++) row = afterFailure(row, LOGIN_RULES.pair, T0 + i);
    expect(row).toEqual({ failures: 4, lockedUntil: 0, forgetAt: T0 + 3 + 24 * 60 * MIN });
    expect(isLive(row, T0 + 3 + 24 * 60 * MIN - 1)).toBe(true);
    expect(isLive(row, T0 + 3 + 24 * 60 * MIN)).toBe(false);
    expect(afterFailure(row, LOGIN_RULES.pair, T0 + 3 + 24 * 60 * MIN)).toMatchObject({ failures: 1, lockedUntil: 0 });
    expect(afterFailure(null, LOGIN_RULES.address, T0)).toEqual({ failures: 1, lockedUntil: 0, forgetAt: T0 + 60 * MIN });
  });

  it("never moves a lock or the memory of a failure earlier, even when a process's clock lags", () => {
    const locked = afterFailure({ failures: 4, lockedUntil: 0, forgetAt: T0 + 24 * 60 * MIN }, LOGIN_RULES.pair, T0);
    expect(locked).toEqual({ failures: 5, lockedUntil: T0 + 30 * SEC, forgetAt: T0 + 24 * 60 * MIN });
    // The next failure, from a clock 5 minutes behind: its 60 s would end before the stored lock.
    expect(afterFailure(locked, LOGIN_RULES.pair, T0 - 5 * MIN)).toEqual({ failures: 6, lockedUntil: T0 + 30 * SEC, forgetAt: T0 + 24 * 60 * MIN });
  });
});

describe("password lockout keys", () => {
  it("three SHA-256 keys per attempt, none holding the username or the address in clear", () => {
    const keys = loginKeys("password:demo", "alice", "203.0.113.7");
    expect(Object.values(keys).every((k) => /^[0-9a-f]{64}$/.test(k))).toBe(true);
    expect(new Set(Object.values(keys)).size).toBe(3);
    expect(JSON.stringify(keys)).not.toMatch(/alice|203\.0/);
  });

  it("the same username shares its key across addresses, an address across usernames, each within its realm", () => {
    const a = loginKeys("password:demo", "alice", "203.0.113.7");
    const b = loginKeys("password:demo", "alice", "198.51.100.1");
    const c = loginKeys("password:demo", "bob", "203.0.113.7");
    expect(a.user).toBe(b.user);
    expect(a.pair).not.toBe(b.pair);
    expect(a.address).toBe(c.address);
    expect(a.user).not.toBe(c.user);
    expect(loginKeys("password:other", "alice", "203.0.113.7")).not.toMatchObject({ user: a.user });
    // No two parts run together: address "a" with username "b\nc" is not address "a\nb" with "c".
    expect(loginKeys("r", "b\nc", "a").pair).not.toBe(loginKeys("r", "c", "a\nb").pair);
  });

  it("each key goes to the store with its own rule", () => {
    const keys = loginKeys("password:demo", "alice", "-");
    expect(failureRules(keys)).toEqual([
      { key: keys.pair, ...LOGIN_RULES.pair },
      { key: keys.user, ...LOGIN_RULES.user },
      { key: keys.address, ...LOGIN_RULES.address },
    ]);
  });

  it("Retry-After is whole seconds, rounded up", () => {
    expect(retryAfterSeconds(T0 + 30 * SEC, T0)).toBe(30);
    expect(retryAfterSeconds(T0 + 1, T0)).toBe(1);
    expect(retryAfterSeconds(T0 + 29_001, T0)).toBe(30);
  });
});
