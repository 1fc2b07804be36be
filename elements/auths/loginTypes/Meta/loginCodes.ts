import { type Clock, hashToken, newSecretToken } from "jit-runtime/element";
import { corpListOf } from "./corpList.ts";
import { CODE_TTL_SECONDS, type LoginCodeResult } from "./types.ts";
import type { LoginOrigin, Store } from "../../storage/Store.ts";

const CODE_TTL_MS = CODE_TTL_SECONDS * 1000;

/**
 * The login code every login Type hands a recognised user: single use, for
 * AuthSvc.loginByCode within 5 minutes, stored only as its hash, with its origin (the login
 * Type and the identity, realm + subject, it logged in), so removing that identity voids it.
 * The answer is `{ loginCode, corpList, userId, expiresIn }` whatever the Type.
 */
export async function issueLoginCode(store: Store, clock: Clock, origin: LoginOrigin, userId: number): Promise<LoginCodeResult> {
  const { result, written } = await queueLoginCode(store, clock, origin, userId);
  await written;
  return result;
}

/** What an issuer answers before its write is durable: `written` MUST be awaited before `result` goes out. */
export interface Queued<T> {
  result: T;
  written: Promise<void>;
}

/**
 * issueLoginCode's answer as soon as it is known, with the code's write still committing
 * (`written`, which the caller MUST await before handing the answer out; it never rejects
 * unobserved). Writes the caller queues before its next await share that commit.
 */
export async function queueLoginCode(store: Store, clock: Clock, origin: LoginOrigin, userId: number): Promise<Queued<LoginCodeResult>> {
  const now = clock.now();
  const loginCode = newSecretToken(32);
  const written = store.saveLoginCode(hashToken(loginCode), { appId: origin.appId, userId, expiresAt: now + CODE_TTL_MS, origin }, now);
  written.catch(() => {});
  // The corp list is read while the code's write commits, not after.
  const corpList = await corpListOf(store, userId);
  return { result: { loginCode, corpList, userId, expiresIn: CODE_TTL_SECONDS }, written };
}

/** A fresh login code to hand out with register's answer: its clear value and what the store keeps. */
export function newLoginCode(clock: Clock, loginType: string): { loginCode: string; stored: { hash: string; expiresAt: number; loginType: string } } {
  const loginCode = newSecretToken(32);
  return { loginCode, stored: { hash: hashToken(loginCode), expiresAt: clock.now() + CODE_TTL_MS, loginType } };
}
