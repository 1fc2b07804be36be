import { StoreError, type SqliteDatabase, type WriteUnits } from "jit-runtime/element";
import type {
  AdminSessionView,
  AdminUserQuery,
  AdminUserView,
  BindCodeRecord,
  BindingRecord,
  CodeKind,
  ConsumeResult,
  AccessTokenRecord,
  CorpRecord,
  ForceRefreshRule,
  LoginCodeRecord,
  LoginFailureRule,
  LoginFailureState,
  LoginRedeemResult,
  PasswordCredentialRecord,
  PasswordRegistration,
  RedeemOptions,
  RedeemResult,
  PurgeCounts,
  SessionRecord,
  Store,
  UserRecord,
  WxCodeClaim,
  WxCodeOutcome,
  WxCodeState,
} from "../Store.ts";
import {
  loginFailureStateOf,
  requireLoginFailureKeys,
  requireLoginFailureRules,
  toLoginFailure,
  type LoginFailureDbRow,
  type LoginFailureRow,
} from "../loginFailures.ts";
import { listUserSessions, listUsers, prepareAdmin, type AdminStatements } from "./adminReads.ts";
import { SESSION_ID, toBinding, toPassword, toSession, toUser, type BindingRow, type PasswordRow, type SessionRow, type UserRow } from "../rows.ts";
import { insertSeedUsers, type SeedOptions, type SeedResult } from "./seed.ts";
import { prepareAll, type Statements } from "./statements.ts";
import type { WriteOp } from "./writes.ts";

/** This store's write units (writes.ts), loaded by the handle on the connection that writes. */
export const SQLITE_WRITE_UNITS = new URL(import.meta.url.endsWith(".ts") ? "./writes.ts" : "./writes.js", import.meta.url);

/** The write channel as this store calls it: a unit by name, with its arguments. */
class Writes {
  readonly #units: WriteUnits;
  constructor(units: WriteUnits) {
    this.#units = units;
  }
  run<T = never>(op: WriteOp, ...args: unknown[]): Promise<T> {
    return this.#units.run<T>(op, ...args);
  }
}

/**
 * The Store port on better-sqlite3. better-sqlite3 is synchronous and a transaction commits
 * at the first `await`, so every method does all of its database work synchronously and
 * only the outer method is async.
 *
 * Reads run at once on this connection, on committed data. Writes are named units
 * (writes.ts) sent down a WriteChannel: either run on this connection (InlineWrites) or
 * on a writer thread with its own connection (writer/), which keeps the statements, the
 * commits and SQLite's checkpoints off the caller's event loop. Either way the writes of
 * one event-loop turn share one IMMEDIATE transaction (which takes the write lock up front,
 * so it never fails half-way on a lock upgrade) and one fsync, each write in its own
 * savepoint, and each promise settles after that commit (groupCommit.ts has the contract).
 *
 * Codes and tokens are looked up by their SHA-256 hash through the primary key; the hash
 * of a guess reveals nothing about a stored code, so no constant-time compare is needed
 * here (the clear value never reaches the store).
 */
export class SqliteStore implements Store {
  readonly commitsTurnTogether = true;
  readonly file: string;
  readonly #db: SqliteDatabase;
  readonly #q: Statements;
  readonly #writes: Writes;
  readonly #ownsDatabase: boolean;
  #closed = false;
  #admin: AdminStatements | null = null;

  /**
   * On `db`, whose schema is already migrated (openSqliteStore, openLoginStore), with its
   * write units loaded (`units`). `ownsDatabase`: close() closes the handle too.
   */
  constructor(db: SqliteDatabase, units: WriteUnits, ownsDatabase: boolean) {
    this.#db = db;
    this.file = db.file;
    this.#q = prepareAll(db.unitContext());
    this.#writes = new Writes(units);
    this.#ownsDatabase = ownsDatabase;
  }

  /** The database handle the store keeps its tables on. */
  get database(): SqliteDatabase {
    return this.#db;
  }

  // --- users and organisations ---

  async createUser(input: { name?: string | null; corpId?: string | null }, now: number): Promise<UserRecord> {
    return this.#writes.run("createUser", input, now);
  }

  async getUser(userId: number): Promise<UserRecord | null> {
    const row = this.#q.getUser.get(userId) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async upsertCorp(corp: CorpRecord): Promise<void> {
    await this.#writes.run("upsertCorp", corp);
  }

  async addCorpMember(corpId: string, userId: number, now: number): Promise<void> {
    await this.#writes.run("addCorpMember", corpId, userId, now);
  }

  async listUserCorps(userId: number): Promise<CorpRecord[]> {
    const rows = this.#q.listUserCorps.all(userId) as { corp_id: string; corp_name: string }[];
    return rows.map((r) => ({ corpId: r.corp_id, corpName: r.corp_name }));
  }

  // --- WeChat bindings ---

  async findBindingByOpenId(appId: string, openId: string): Promise<BindingRecord | null> {
    const row = this.#q.bindingByOpenId.get(appId, openId) as BindingRow | undefined;
    return row ? toBinding(row) : null;
  }

  async findBindingByUser(appId: string, userId: number): Promise<BindingRecord | null> {
    const row = this.#q.bindingByUser.get(appId, userId) as BindingRow | undefined;
    return row ? toBinding(row) : null;
  }

  async findUserIdByUnionId(unionId: string): Promise<number | null> {
    const row = this.#q.userIdByUnionId.get(unionId) as { user_id: number } | undefined;
    return row ? row.user_id : null;
  }

  async createBinding(binding: Omit<BindingRecord, "createdAt">, now: number): Promise<BindingRecord> {
    return this.#writes.run("createBinding", binding, now);
  }

  async deleteBinding(appId: string, userId: number, now: number): Promise<boolean> {
    return this.#writes.run("deleteBinding", appId, userId, now);
  }

  async wasUnbound(appId: string, openId: string): Promise<boolean> {
    return this.#q.wasUnbound.get(appId, openId) !== undefined;
  }

  // --- single-use codes ---

  async saveBindCode(hash: string, record: BindCodeRecord, now: number): Promise<void> {
    await this.#writes.run("saveBindCode", hash, record, now);
  }

  async saveLoginCode(hash: string, record: LoginCodeRecord, now: number): Promise<void> {
    await this.#writes.run("saveLoginCode", hash, record, now);
  }

  consumeCode(kind: "bind", hash: string, now: number): Promise<ConsumeResult<BindCodeRecord>>;
  consumeCode(kind: "login", hash: string, now: number): Promise<ConsumeResult<LoginCodeRecord>>;
  async consumeCode(kind: CodeKind, hash: string, now: number): Promise<ConsumeResult<BindCodeRecord> | ConsumeResult<LoginCodeRecord>> {
    return this.#writes.run("consumeCode", kind, hash, now);
  }

  async redeemBindCode(hash: string, now: number, options: RedeemOptions): Promise<RedeemResult> {
    return this.#writes.run("redeemBindCode", hash, now, options);
  }

  async redeemLoginCode(hash: string, now: number, session: { tokenHash: string; expiresAt: number; corpId?: string | null }): Promise<LoginRedeemResult> {
    return this.#writes.run("redeemLoginCode", hash, now, session);
  }

  // --- password credentials ---

  async findPasswordCredential(realm: string, username: string): Promise<PasswordCredentialRecord | null> {
    const row = this.#q.passwordByUsername.get(realm, username) as PasswordRow | undefined;
    return row ? toPassword(row) : null;
  }

  async findPasswordCredentialByUser(realm: string, userId: number): Promise<PasswordCredentialRecord | null> {
    const row = this.#q.passwordByUser.get(userId, realm) as PasswordRow | undefined;
    return row ? toPassword(row) : null;
  }

  async registerPasswordUser(input: PasswordRegistration, now: number): Promise<UserRecord> {
    return this.#writes.run("registerPasswordUser", input, now);
  }

  async createPasswordCredential(credential: Omit<PasswordCredentialRecord, "createdAt" | "updatedAt">, now: number): Promise<PasswordCredentialRecord> {
    return this.#writes.run("createPasswordCredential", credential, now);
  }

  async updatePasswordHash(realm: string, userId: number, passwordHash: string, now: number, options?: { endSessions?: boolean; keepTokenHash?: string | null }): Promise<boolean> {
    return this.#writes.run("updatePasswordHash", realm, userId, passwordHash, now, options ?? {});
  }

  async deletePasswordCredential(realm: string, userId: number, now: number): Promise<boolean> {
    return this.#writes.run("deletePasswordCredential", realm, userId, now);
  }

  // --- login sessions ---

  async createSession(tokenHash: string, record: Omit<SessionRecord, "createdAt">, now: number): Promise<void> {
    await this.#writes.run("createSession", tokenHash, record, now);
  }

  async getSession(tokenHash: string, now: number): Promise<SessionRecord | null> {
    const row = this.#q.getSession.get(tokenHash, now) as SessionRow | undefined;
    return row ? toSession(row) : null;
  }

  async deleteSession(tokenHash: string): Promise<boolean> {
    return this.#writes.run("deleteSession", tokenHash);
  }

  // --- admin reads and actions (prepared on first use: a login server may never need them) ---

  async listUsers(query: AdminUserQuery, now: number): Promise<{ users: AdminUserView[]; total: number }> {
    return listUsers((read) => this.#db.snapshot(read), (this.#admin ??= prepareAdmin(this.#db.unitContext())), query, now);
  }

  async listUserSessions(userId: number, now: number): Promise<AdminSessionView[]> {
    return listUserSessions((this.#admin ??= prepareAdmin(this.#db.unitContext())), userId, now);
  }

  async deleteUserSession(userId: number, sessionId: string): Promise<boolean> {
    if (!SESSION_ID.test(sessionId)) return false;
    return this.#writes.run("deleteUserSession", userId, sessionId);
  }

  // --- WeChat session keys ---

  async putSessionKey(appId: string, openId: string, sealed: string, now: number): Promise<void> {
    await this.#writes.run("putSessionKey", appId, openId, sealed, now);
  }

  async getSessionKey(appId: string, openId: string): Promise<{ sealed: string; updatedAt: number } | null> {
    const row = this.#q.getSessionKey.get(appId, openId) as { sealed: string; updated_at: number } | undefined;
    return row ? { sealed: row.sealed, updatedAt: row.updated_at } : null;
  }

  // --- phone numbers ---

  async setUserPhone(userId: number, phone: string, now: number): Promise<void> {
    await this.#writes.run("setUserPhone", userId, phone, now);
  }

  async findUserIdByPhone(phone: string): Promise<number | null> {
    const row = this.#q.userIdByPhone.get(phone) as { user_id: number } | undefined;
    return row ? row.user_id : null;
  }

  // --- WeChat access tokens ---

  async getAccessToken(appId: string): Promise<AccessTokenRecord | null> {
    const row = this.#q.getAccessToken.get(appId) as
      | { sealed: string | null; expires_at: number; lease_owner: string | null; lease_until: number }
      | undefined;
    return row ? { sealed: row.sealed, expiresAt: row.expires_at, leaseOwner: row.lease_owner, leaseUntil: row.lease_until } : null;
  }

  async claimAccessTokenFetch(appId: string, owner: string, now: number, leaseUntil: number, staleAt: number): Promise<boolean> {
    return this.#writes.run("claimAccessTokenFetch", appId, owner, now, leaseUntil, staleAt);
  }

  async saveAccessToken(appId: string, owner: string, sealed: string | null, expiresAt: number): Promise<void> {
    await this.#writes.run("saveAccessToken", appId, owner, sealed, expiresAt);
  }

  async invalidateAccessToken(appId: string, sealed: string): Promise<boolean> {
    return this.#writes.run("invalidateAccessToken", appId, sealed);
  }

  async claimForceRefresh(appId: string, now: number, rule: ForceRefreshRule): Promise<boolean> {
    return this.#writes.run("claimForceRefresh", appId, now, rule);
  }


  // --- the wx.login code ledger ---

  async claimWxCode(hash: string, claim: WxCodeClaim, now: number): Promise<WxCodeState> {
    return this.#writes.run("claimWxCode", hash, claim, now);
  }

  async settleWxCode(hash: string, holder: string, outcome: WxCodeOutcome, expiresAt: number): Promise<boolean> {
    return this.#writes.run("settleWxCode", hash, holder, outcome, expiresAt);
  }

  async hitRateWindow(key: string, windowMs: number, now: number): Promise<{ count: number; resetAt: number }> {
    return this.#writes.run("hitRateWindow", key, windowMs, now);
  }

  // --- failed-login backoff ---

  async loginFailureState(keys: string[], now: number): Promise<LoginFailureState> {
    const rows = new Map<string, LoginFailureRow>();
    for (const key of requireLoginFailureKeys("loginFailureState", keys, now)) {
      const row = this.#q.getLoginFailure.get(key) as LoginFailureDbRow | undefined;
      if (row) rows.set(key, toLoginFailure(row));
    }
    return loginFailureStateOf(rows, now);
  }

  async recordLoginFailure(rules: LoginFailureRule[], now: number): Promise<number> {
    return this.#writes.run("recordLoginFailure", requireLoginFailureRules("recordLoginFailure", rules, now), now);
  }

  async clearLoginFailures(keys: string[]): Promise<void> {
    await this.#writes.run("clearLoginFailures", requireLoginFailureKeys("clearLoginFailures", keys));
  }

  async purgeExpired(now: number): Promise<PurgeCounts> {
    return this.#writes.run("purgeExpired", now);
  }

  async ping(): Promise<void> {
    if (this.#closed) throw new StoreError("STORE_CLOSED", { file: this.file });
    await this.#db.ping();
  }

  /** Closes the handle when the store opened it (openSqliteStore); a shared handle is its opener's to close. */
  async close(): Promise<void> {
    this.#closed = true;
    // Writes already queued are committed and made durable (or rejected) before the connection goes.
    if (this.#ownsDatabase) await this.#db.close();
  }

  // --- SQLite-only extras (not part of the port) ---

  /** Connection settings in force, for tests and `jit doctor`-style checks. */
  settings(): { journalMode: string; foreignKeys: boolean; synchronous: number; busyTimeoutMs: number; schemaVersion: number } {
    const row = this.#q.schemaVersion.get() as { version: number | null } | undefined;
    return { ...this.#db.settings(), schemaVersion: row?.version ?? 0 };
  }

  /** Bulk insert of users with bindings for benchmarks; see seed.ts. */
  seedUsers(options: SeedOptions): SeedResult {
    return insertSeedUsers(this.#db.unitContext(), (work) => this.#db.immediate(work), options);
  }
}
