import { ElementError, type SyncStatement, type UnitContext } from "jit-runtime/element";
import { LoginError } from "../../loginTypes/Meta/errors.ts";
import type {
  BindCodeRecord,
  BindingRecord,
  CodeKind,
  ConsumeResult,
  CorpRecord,
  ForceRefreshRule,
  LoginCodeRecord,
  LoginFailureRule,
  LoginRedeemResult,
  PasswordCredentialRecord,
  PasswordRegistration,
  RedeemOptions,
  RedeemResult,
  PurgeCounts,
  SessionRecord,
  UserRecord,
  WxCodeClaim,
  WxCodeOutcome,
  WxCodeState,
} from "../Store.ts";
import { afterFailure, toLoginFailure, type LoginFailureDbRow } from "../loginFailures.ts";
import { wxCodeState, type WxCodeRow } from "../wxCodeRow.ts";
import { toBindCode, toLoginCode, toUser, usernameTaken, type BindCodeRow, type BindingRow, type LoginCodeRow, type UserRow } from "../rows.ts";
import { bindingConflict, missingUser, passwordConflict } from "./constraintErrors.ts";
import { prepareAll, type Statements } from "./statements.ts";

/** Thrown inside a transaction to roll it back when a bind code belongs to another mini program. */
const FOREIGN_CODE = Symbol("foreign bind code");

/**
 * The body of every write the store makes, one method per write unit. Each method is
 * synchronous and runs inside the unit's savepoint of a group-commit batch (runtime/database/sqlite/groupCommit.ts),
 * on whichever connection writes: the store's own, or the writer thread's (writer/). Only
 * plain data goes in and comes out, so a unit can be named and sent to another thread.
 *
 * Checks that guard a unique rule (e.g. one binding per user and AppID) run inside the unit,
 * under the write lock, so no other writer slips in between check and insert.
 */
export class SqliteWrites {
  readonly #q: Statements;
  readonly #ctx: UnitContext;
  /** redeemBindCode's body in a nested transaction (a savepoint), so FOREIGN_CODE undoes the consumption. */
  readonly #redeem: (hash: string, now: number, options: RedeemOptions) => RedeemResult;

  constructor(ctx: UnitContext) {
    this.#ctx = ctx;
    this.#q = prepareAll(ctx);
    this.#redeem = ctx.nested((hash: string, now: number, options: RedeemOptions) => this.#redeemUnit(hash, now, options));
  }

  // --- users and organisations ---

  createUser(input: { name?: string | null; corpId?: string | null }, now: number): UserRecord {
    const user = this.#insertUser(input.name ?? null, now);
    if (input.corpId) this.#addMember(input.corpId, user.userId, now, "createUser");
    return user;
  }

  upsertCorp(corp: CorpRecord): void {
    this.#q.upsertCorp.run(corp.corpId, corp.corpName);
  }

  addCorpMember(corpId: string, userId: number, now: number): void {
    this.#requireUser(userId);
    this.#addMember(corpId, userId, now, "addCorpMember");
  }

  // --- WeChat bindings ---

  createBinding(binding: Omit<BindingRecord, "createdAt">, now: number): BindingRecord {
    this.#requireUser(binding.userId);
    return this.#insertBinding(binding, now);
  }

  /**
   * One unit: the binding never goes without its unbound mark (see Store.wasUnbound), nor
   * leaves behind a login code or a session that the identity issued.
   */
  deleteBinding(appId: string, userId: number, now: number): boolean {
    const row = this.#q.deleteBinding.get(appId, userId) as { open_id: string } | undefined;
    if (row === undefined) return false;
    this.#q.markUnbound.run(appId, row.open_id, now);
    this.#q.voidLoginCodesOf.run(now, appId, row.open_id);
    this.#q.endSessionsOf.run(appId, row.open_id);
    return true;
  }

  // --- single-use codes ---

  saveBindCode(hash: string, record: BindCodeRecord, now: number): void {
    this.#q.insertBindCode.run(hash, record.appId, record.openId, record.unionId ?? null, record.expiresAt, now);
  }

  saveLoginCode(hash: string, record: LoginCodeRecord, now: number): void {
    const origin = record.origin ?? null;
    // One column holds both: an origin names an identity in the code's own mini program.
    if (origin && origin.appId !== record.appId) {
      throw new ElementError("ARGUMENT_INVALID", { argument: "record.origin.appId", function: "saveLoginCode", reason: "must equal record.appId" });
    }
    try {
      this.#q.insertLoginCode.run(hash, record.appId, record.userId, record.expiresAt, now, origin?.loginType ?? null, origin?.openId ?? null);
    } catch (err) {
      throw missingUser(this.#ctx, err, record.userId);
    }
  }

  /**
   * The guarded UPDATE: at most one caller anywhere gets the row back. Through the write
   * queue, so a consume sees a save queued before it, and the "used" mark is durable before
   * the caller learns it won.
   */
  consumeCode(kind: CodeKind, hash: string, now: number): ConsumeResult<BindCodeRecord> | ConsumeResult<LoginCodeRecord> {
    return kind === "bind"
      ? this.#consume(this.#q.consumeBindCode, hash, now, (r: BindCodeRow) => toBindCode(r))
      : this.#consume(this.#q.consumeLoginCode, hash, now, (r: LoginCodeRow) => toLoginCode(r));
  }

  /**
   * One unit: a thrown error (WECHAT_ALREADY_BOUND) rolls back the consumption too, so the
   * code stays usable.
   */
  redeemBindCode(hash: string, now: number, options: RedeemOptions): RedeemResult {
    try {
      return this.#redeem(hash, now, options);
    } catch (err) {
      if (err === FOREIGN_CODE) return { status: "invalid" };
      throw err;
    }
  }

  /**
   * One unit: the membership check, the guarded update and the session insert see the same
   * database, so a code is never spent on a corp its user is not in, and a session never
   * outlives an unbind that voided its code.
   */
  redeemLoginCode(hash: string, now: number, session: { tokenHash: string; expiresAt: number; corpId?: string | null }): LoginRedeemResult {
    const corpId = session.corpId ?? null;
    const consumed =
      corpId === null
        ? this.#consume(this.#q.consumeLoginCode, hash, now, (r: LoginCodeRow) => toLoginCode(r))
        : this.#consume(this.#q.consumeLoginCodeInCorp, hash, now, (r: LoginCodeRow) => toLoginCode(r), corpId);
    if (consumed.status === "invalid") {
      // Not taken: unknown or used, or live and held back by the corp condition.
      return corpId !== null && this.#q.loginCodeUnused.get(hash) !== undefined ? { status: "not_member" } : { status: "invalid" };
    }
    if (consumed.status === "expired") return { status: "expired" };
    const { userId, origin } = consumed.record;
    const sessionCorp = corpId ?? ((this.#q.firstCorpOf.get(userId) as { corp_id: string } | undefined)?.corp_id ?? null);
    const record: SessionRecord = { userId, corpId: sessionCorp, createdAt: now, expiresAt: session.expiresAt, origin: origin ?? null };
    this.createSession(session.tokenHash, record, now);
    return { status: "ok", session: record };
  }

  // --- password credentials ---

  /** One unit: a taken username throws before anything is written, so the savepoint rolls back nothing. */
  registerPasswordUser(input: PasswordRegistration, now: number): UserRecord {
    if (this.#q.passwordByUsername.get(input.realm, input.username) !== undefined) throw usernameTaken(input.realm);
    const user = this.#insertUser(input.name ?? null, now);
    this.#insertPassword({ realm: input.realm, username: input.username, userId: user.userId, passwordHash: input.passwordHash }, now);
    if (input.corp) {
      this.#q.upsertCorp.run(input.corp.corpId, input.corp.corpName);
      this.#q.addMember.run(input.corp.corpId, user.userId, now);
    }
    const { hash, expiresAt, loginType } = input.loginCode;
    this.saveLoginCode(hash, { appId: input.realm, userId: user.userId, expiresAt, origin: { loginType, appId: input.realm, openId: input.username } }, now);
    return user;
  }

  createPasswordCredential(c: Omit<PasswordCredentialRecord, "createdAt" | "updatedAt">, now: number): PasswordCredentialRecord {
    this.#requireUser(c.userId);
    const byName = this.#q.passwordByUsername.get(c.realm, c.username) as { user_id: number } | undefined;
    if (byName && byName.user_id !== c.userId) throw usernameTaken(c.realm);
    if (byName || this.#q.passwordByUser.get(c.userId, c.realm) !== undefined) {
      throw new LoginError("PASSWORD_ALREADY_SET", { userId: c.userId, fullName: c.realm });
    }
    return this.#insertPassword(c, now);
  }

  updatePasswordHash(realm: string, userId: number, passwordHash: string, now: number, options: { endSessions?: boolean; keepTokenHash?: string | null } = {}): boolean {
    const row = this.#q.updatePassword.get(passwordHash, now, userId, realm) as { username: string } | undefined;
    if (row === undefined) return false;
    if (options.endSessions) {
      this.#q.voidLoginCodesOf.run(now, realm, row.username);
      this.#q.endOtherSessionsOf.run(userId, options.keepTokenHash ?? null);
    }
    return true;
  }

  /** One unit, like deleteBinding: what the credential issued goes with it. */
  deletePasswordCredential(realm: string, userId: number, now: number): boolean {
    const row = this.#q.deletePassword.get(userId, realm) as { username: string } | undefined;
    if (row === undefined) return false;
    this.#q.voidLoginCodesOf.run(now, realm, row.username);
    this.#q.endSessionsOf.run(realm, row.username);
    return true;
  }

  // --- login sessions ---

  createSession(tokenHash: string, record: Omit<SessionRecord, "createdAt">, now: number): void {
    const origin = record.origin ?? null;
    try {
      this.#q.insertSession.run(tokenHash, record.userId, record.corpId ?? null, now, record.expiresAt, origin?.loginType ?? null, origin?.appId ?? null, origin?.openId ?? null);
    } catch (err) {
      throw missingUser(this.#ctx, err, record.userId);
    }
  }

  deleteSession(tokenHash: string): boolean {
    return this.#q.deleteSession.run(tokenHash).changes > 0;
  }

  deleteUserSession(userId: number, sessionId: string): boolean {
    return this.#q.deleteUserSession.run(userId, sessionId).changes > 0;
  }

  // --- phone numbers ---

  /** The unique index decides; its violation is PHONE_TAKEN, whoever got there first. */
  setUserPhone(userId: number, phone: string, _now: number): void {
    let changes: number;
    try {
      changes = this.#q.setUserPhone.run(phone, userId).changes;
    } catch (err) {
      if (this.#ctx.constraintOf(err)?.kind === "unique") throw new LoginError("PHONE_TAKEN");
      throw err;
    }
    if (changes !== 1) throw new LoginError("USER_NOT_FOUND", { userId });
  }

  // --- WeChat access tokens ---

  claimAccessTokenFetch(appId: string, owner: string, now: number, leaseUntil: number, staleAt: number): boolean {
    return this.#q.claimTokenFetch.run(appId, owner, leaseUntil, now, staleAt).changes === 1;
  }

  saveAccessToken(appId: string, owner: string, sealed: string | null, expiresAt: number): void {
    if (sealed !== null) this.#q.storeAccessToken.run(appId, sealed, expiresAt);
    this.#q.releaseTokenLease.run(appId, owner);
  }

  invalidateAccessToken(appId: string, sealed: string): boolean {
    return this.#q.invalidateAccessToken.run(appId, sealed).changes === 1;
  }

  claimForceRefresh(appId: string, now: number, rule: ForceRefreshRule): boolean {
    return this.#q.claimForceRefresh.run(appId, rule.day, now, now - rule.minIntervalMs, rule.maxPerDay).changes === 1;
  }

  // --- WeChat session keys ---

  putSessionKey(appId: string, openId: string, sealed: string, now: number): void {
    this.#q.putSessionKey.run(appId, openId, sealed, now);
  }

  // --- the wx.login code ledger ---

  /**
   * One unit under the write lock: the claim (an upsert whose WHERE says when an entry may be
   * taken), then, when it did not take the entry, a read of what holds it. Through the write
   * queue, so every process on the file sees claims in one order.
   */
  claimWxCode(hash: string, claim: WxCodeClaim, now: number): WxCodeState {
    const taken = this.#q.claimWxCode.get(hash, claim.appId, claim.use, claim.holder, claim.leaseUntil, claim.expiresAt, now, now) as { holder: string } | undefined;
    if (taken?.holder === claim.holder) return { status: "claimed" };
    return wxCodeState(this.#q.getWxCode.get(hash) as WxCodeRow);
  }

  settleWxCode(hash: string, holder: string, outcome: WxCodeOutcome, expiresAt: number): boolean {
    const sealed = outcome.state === "answered" ? outcome.sealed : null;
    return this.#q.settleWxCode.run(outcome.state, sealed, expiresAt, hash, holder).changes === 1;
  }

  hitRateWindow(key: string, windowMs: number, now: number): { count: number; resetAt: number } {
    const row = this.#q.hitRateWindow.get(key, now, windowMs, now, now) as { count: number; reset_at: number };
    return { count: row.count, resetAt: row.reset_at };
  }

  // --- failed-login backoff ---

  /**
   * One unit under the write lock: each key's row is read, advanced by one failure and
   * written back, so failures from every process on the file count one after the other.
   * `rules` come checked and sorted by key (SqliteStore).
   */
  recordLoginFailure(rules: LoginFailureRule[], now: number): number {
    let lockedUntil = 0;
    for (const { key, ...rule } of rules) {
      const row = this.#q.getLoginFailure.get(key) as LoginFailureDbRow | undefined;
      const next = afterFailure(row ? toLoginFailure(row) : null, rule, now);
      this.#q.putLoginFailure.run(key, next.failures, next.lockedUntil, next.forgetAt);
      lockedUntil = Math.max(lockedUntil, next.lockedUntil);
    }
    return lockedUntil;
  }

  clearLoginFailures(keys: string[]): void {
    for (const key of keys) this.#q.clearLoginFailure.run(key);
  }

  purgeExpired(now: number): PurgeCounts {
    return {
      bindCodes: this.#q.purgeBindExpired.run(now).changes + this.#q.purgeBindUsed.run(now).changes,
      loginCodes: this.#q.purgeLoginExpired.run(now).changes + this.#q.purgeLoginUsed.run(now).changes,
      sessions: this.#q.purgeSessions.run(now).changes,
      wxCodes: this.#q.purgeWxCodes.run(now, now).changes,
      rateWindows: this.#q.purgeRateWindows.run(now).changes,
      loginFailures: this.#q.purgeLoginFailures.run(now).changes,
    };
  }

  // --- helpers ---

  #insertUser(name: string | null, now: number): UserRecord {
    return toUser(this.#q.insertUser.get(name, now) as UserRow);
  }

  #requireUser(userId: number): void {
    if (this.#q.getUser.get(userId) === undefined) throw new LoginError("USER_NOT_FOUND", { userId });
  }

  #addMember(corpId: string, userId: number, now: number, fn: string): void {
    if (this.#q.getCorp.get(corpId) === undefined) {
      throw new ElementError("ARGUMENT_INVALID", { argument: "corpId", function: fn, reason: `organisation ${corpId} does not exist` });
    }
    this.#q.addMember.run(corpId, userId, now);
  }

  #insertBinding(b: Omit<BindingRecord, "createdAt">, now: number): BindingRecord {
    const byOpenId = this.#q.bindingByOpenId.get(b.appId, b.openId) as BindingRow | undefined;
    if (byOpenId && byOpenId.user_id === b.userId) throw new LoginError("ALREADY_BOUND", { userId: b.userId, appId: b.appId });
    if (byOpenId) throw new LoginError("WECHAT_ALREADY_BOUND", { appId: b.appId });
    if (this.#q.bindingByUser.get(b.appId, b.userId) !== undefined) {
      throw new LoginError("ALREADY_BOUND", { userId: b.userId, appId: b.appId });
    }
    try {
      this.#q.insertBinding.run(b.appId, b.openId, b.unionId ?? null, b.userId, now, now);
    } catch (err) {
      throw bindingConflict(this.#ctx, err, b);
    }
    // Bound again on purpose (bind or register): the unionId auto-link may use it again.
    this.#q.clearUnbound.run(b.appId, b.openId);
    return { appId: b.appId, openId: b.openId, unionId: b.unionId ?? null, userId: b.userId, createdAt: now };
  }

  #insertPassword(c: Omit<PasswordCredentialRecord, "createdAt" | "updatedAt">, now: number): PasswordCredentialRecord {
    try {
      this.#q.insertPassword.run(c.realm, c.username, c.userId, c.passwordHash, now, now);
    } catch (err) {
      throw passwordConflict(this.#ctx, err, c);
    }
    return { ...c, createdAt: now, updatedAt: now };
  }

  #consume<T>(statement: SyncStatement, hash: string, now: number, map: (row: never) => T & { expiresAt: number }, corpId?: string): ConsumeResult<T> {
    const row = corpId === undefined ? statement.get(now, hash) : statement.get(now, hash, now, corpId);
    if (row === undefined) return { status: "invalid" };
    const record = map(row as never);
    // A code is live strictly before its expiry instant; an expired one is spent all the same.
    return record.expiresAt <= now ? { status: "expired", record } : { status: "ok", record };
  }

  #redeemUnit(hash: string, now: number, options: RedeemOptions): RedeemResult {
    const consumed = this.#consume(this.#q.consumeBindCode, hash, now, (r: BindCodeRow) => toBindCode(r));
    // A code minted for another mini program is not this one's to spend: roll back so it
    // stays usable where it belongs, and answer as if it were unknown.
    if (consumed.status !== "invalid" && consumed.record.appId !== options.appId) throw FOREIGN_CODE;
    if (consumed.status !== "ok") return { status: consumed.status };
    const code = consumed.record;
    const user = this.#insertUser(options.name ?? null, now);
    // The phone first: a number already on another user throws and rolls everything back.
    if (options.phone) {
      this.setUserPhone(user.userId, options.phone, now);
      user.phone = options.phone;
    }
    const binding = this.#insertBinding({ appId: code.appId, openId: code.openId, unionId: code.unionId, userId: user.userId }, now);
    if (options.corp) {
      this.#q.upsertCorp.run(options.corp.corpId, options.corp.corpName);
      this.#q.addMember.run(options.corp.corpId, user.userId, now);
    }
    if (options.loginCode) {
      const { hash: loginHash, expiresAt, loginType } = options.loginCode;
      const origin = { loginType, appId: code.appId, openId: code.openId };
      this.saveLoginCode(loginHash, { appId: code.appId, userId: user.userId, expiresAt, origin }, now);
    }
    return { status: "ok", user, binding };
  }
}

/** The write units, by name, as the database handle runs them (inline or on its writer thread). */
export function createUnits(ctx: UnitContext): Record<WriteOp, (...args: never[]) => unknown> {
  const writes = new SqliteWrites(ctx);
  const units = {} as Record<WriteOp, (...args: never[]) => unknown>;
  for (const op of Object.getOwnPropertyNames(SqliteWrites.prototype) as (WriteOp | "constructor")[]) {
    if (op !== "constructor") units[op] = (writes[op] as (...args: never[]) => unknown).bind(writes);
  }
  return units;
}

/** The error classes the units throw, rebuilt with their class when they cross the writer thread. */
export const errorFamilies = { login: LoginError, element: ElementError };

/** The units' names: what SqliteStore can ask the handle to run. */
export type WriteOp = {
  [K in keyof SqliteWrites]: SqliteWrites[K] extends (...args: never[]) => unknown ? K : never;
}[keyof SqliteWrites];

/**
 * Units of exactly one statement: they skip the savepoint (SQLite already undoes a failed
 * statement alone, see groupCommit.ts).
 */
export const singleStatement: readonly WriteOp[] = [
  "upsertCorp",
  "saveBindCode",
  "saveLoginCode",
  "consumeCode",
  "createSession",
  "deleteSession",
  "deleteUserSession",
  "putSessionKey",
  "settleWxCode",
  "hitRateWindow",
  "setUserPhone",
  "claimAccessTokenFetch",
  "invalidateAccessToken",
  "claimForceRefresh",
];

/**
 * Units whose answer may go out once their batch has committed, before its fsync
 * (runtime/database/sqlite/groupCommit.ts), when the predicate accepts the result. Other processes already see the
 * committed row, which is all these need; a power cut that loses one harms nothing:
 * - claimWxCode, when it took the code: the claim guards one WeChat call. Whatever the run
 *   answers is written after, in a durable commit whose sync covers the claim; a lost claim
 *   leaves WeChat's own single use (40163) to refuse the code. Any other state it reports
 *   (another holder, a kept answer) is read from rows this caller did not write, so it
 *   waits for the sync like any answer.
 * - hitRateWindow: a count in a fixed window, which a restart may lose anyway.
 */
export const ackOnCommit: { readonly [K in WriteOp]?: (value: never) => boolean } = {
  claimWxCode: (state: WxCodeState) => state.status === "claimed",
  hitRateWindow: () => true,
};
