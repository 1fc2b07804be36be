import { ElementError, StoreError, sqlState, type PostgresDatabase } from "jit-runtime/element";
import { LoginError } from "../../loginTypes/Meta/errors.ts";
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
  afterFailure,
  loginFailureStateOf,
  requireLoginFailureKeys,
  requireLoginFailureRules,
  toLoginFailure,
  type LoginFailureDbRow,
} from "../loginFailures.ts";
import { wxCodeState, type WxCodeRow } from "../wxCodeRow.ts";
import { ADMIN_PG, listUserSessions, listUsers } from "./adminReads.ts";
import {
  SESSION_ID,
  toBindCode,
  toBinding,
  toLoginCode,
  toPassword,
  toSession,
  toUser,
  usernameTaken,
  type BindCodeRow,
  type BindingRow,
  type LoginCodeRow,
  type PasswordRow,
  type SessionRow,
  type UserRow,
} from "../rows.ts";
import { PG_SQL } from "./sql.ts";

/**
 * What the store sends statements through: the handle, or one of its transactions. The
 * handle sends each as a named prepared statement (each pooled connection parses and plans
 * it once; about 30% less PostgreSQL CPU per login on the login bench), or unnamed with
 * `prepared_statements=off` in the URL, for a pooler that cannot keep them.
 */
type Queryable = Pick<PostgresDatabase, "query">;

/** Returned from a transaction's work to roll it back and still answer a value. */
class Rollback<T> {
  constructor(readonly value: T) {}
}

const UNIQUE_VIOLATION = "23505";
const FOREIGN_KEY_VIOLATION = "23503";

/**
 * The Store port on PostgreSQL through the database handle, for several `jit serve` processes on one
 * database. The guarantees are the SQLite store's:
 *
 * - a single-use code is spent by one guarded UPDATE (sql.ts), whichever process asks;
 * - `redeemBindCode` is one transaction on one pooled client (BEGIN … COMMIT on that client,
 *   released in `finally`), and any other write touching two tables is one statement;
 * - unique rules are named constraints, and a conflict is read back to tell
 *   WECHAT_ALREADY_BOUND from ALREADY_BOUND, never parsed out of a message;
 * - codes and tokens arrive hashed, session keys sealed (the store sees neither in clear).
 *
 * A lost or refused connection, or a statement over its timeout, is STORE_UNAVAILABLE
 * (HTTP 503): the pool drops the broken client and opens a new one for the next query, so
 * the server recovers by itself when the database is back.
 */
export class PostgresStore implements Store {
  // Each write is its own statement on a pooled connection, committed on its own.
  readonly commitsTurnTogether = false;
  /** `host:port/database`: what messages name. */
  readonly label: string;
  #closing: Promise<void> | undefined;

  readonly #db: PostgresDatabase;
  readonly #ownsDatabase: boolean;

  /**
   * On the handle's pool, the schema already migrated (openPostgresStore, openLoginStore).
   * The store sends its own statements, written for PostgreSQL (data-modifying CTEs: one
   * round trip per write). `ownsDatabase`: close() closes the handle too.
   */
  constructor(db: PostgresDatabase, ownsDatabase: boolean) {
    this.#db = db;
    this.label = db.label;
    this.#ownsDatabase = ownsDatabase;
  }

  /** The database handle the store keeps its tables on. */
  get database(): PostgresDatabase {
    return this.#db;
  }

  // --- users and organisations ---

  async createUser(input: { name?: string | null; corpId?: string | null }, now: number): Promise<UserRecord> {
    return this.#run(async (db) => {
      if (!input.corpId) return toUser((await db.query<UserRow>(PG_SQL.insertUser, [input.name ?? null, now])).rows[0]!);
      try {
        return toUser((await db.query<UserRow>(PG_SQL.insertUserInCorp, [input.name ?? null, now, input.corpId])).rows[0]!);
      } catch (err) {
        if (sqlState(err) !== FOREIGN_KEY_VIOLATION) throw err;
        throw new ElementError("ARGUMENT_INVALID", { argument: "corpId", function: "createUser", reason: `organisation ${input.corpId} does not exist` });
      }
    });
  }

  async getUser(userId: number): Promise<UserRecord | null> {
    return this.#run(async (db) => {
      const row = (await db.query<UserRow>(PG_SQL.getUser, [userId])).rows[0];
      return row ? toUser(row) : null;
    });
  }

  async upsertCorp(corp: CorpRecord): Promise<void> {
    await this.#run((db) => db.query(PG_SQL.upsertCorp, [corp.corpId, corp.corpName]));
  }

  async addCorpMember(corpId: string, userId: number, now: number): Promise<void> {
    await this.#run(async (db) => {
      try {
        await db.query(PG_SQL.addMember, [corpId, userId, now]);
      } catch (err) {
        if (sqlState(err) !== FOREIGN_KEY_VIOLATION) throw err;
        if (constraintOf(err) === "corp_members_user_fk") throw new LoginError("USER_NOT_FOUND", { userId });
        throw new ElementError("ARGUMENT_INVALID", { argument: "corpId", function: "addCorpMember", reason: `organisation ${corpId} does not exist` });
      }
    });
  }

  async listUserCorps(userId: number): Promise<CorpRecord[]> {
    return this.#run(async (db) => {
      const { rows } = await db.query<{ corp_id: string; corp_name: string }>(PG_SQL.listUserCorps, [userId]);
      return rows.map((r) => ({ corpId: r.corp_id, corpName: r.corp_name }));
    });
  }

  // --- WeChat bindings ---

  async findBindingByOpenId(appId: string, openId: string): Promise<BindingRecord | null> {
    return this.#run((db) => this.#bindingByOpenId(db, appId, openId));
  }

  async findBindingByUser(appId: string, userId: number): Promise<BindingRecord | null> {
    return this.#run((db) => this.#bindingByUser(db, appId, userId));
  }

  async findUserIdByUnionId(unionId: string): Promise<number | null> {
    return this.#run(async (db) => (await db.query<{ user_id: number }>(PG_SQL.userIdByUnionId, [unionId])).rows[0]?.user_id ?? null);
  }

  async createBinding(binding: Omit<BindingRecord, "createdAt">, now: number): Promise<BindingRecord> {
    return this.#run(async (db) => {
      const b = binding;
      // A conflict answers no row; reading the winner tells which rule it broke. If the
      // winner was removed in between, the insert is simply tried again.
      for (let attempt = 0; ; attempt++) {
        let row: BindingRow | undefined;
        try {
          row = (await db.query<BindingRow>(PG_SQL.insertBinding, [b.appId, b.openId, b.unionId ?? null, b.userId, now])).rows[0];
        } catch (err) {
          if (sqlState(err) === FOREIGN_KEY_VIOLATION) throw new LoginError("USER_NOT_FOUND", { userId: b.userId });
          throw err;
        }
        if (row) return toBinding(row);
        if ((await db.query(PG_SQL.getUser, [b.userId])).changes === 0) throw new LoginError("USER_NOT_FOUND", { userId: b.userId });
        const byOpenId = await this.#bindingByOpenId(db, b.appId, b.openId);
        if (byOpenId && byOpenId.userId === b.userId) throw new LoginError("ALREADY_BOUND", { userId: b.userId, appId: b.appId });
        if (byOpenId) throw new LoginError("WECHAT_ALREADY_BOUND", { appId: b.appId });
        if (await this.#bindingByUser(db, b.appId, b.userId)) throw new LoginError("ALREADY_BOUND", { userId: b.userId, appId: b.appId });
        if (attempt >= 2) throw new LoginError("WECHAT_ALREADY_BOUND", { appId: b.appId });
      }
    });
  }

  async deleteBinding(appId: string, userId: number, now: number): Promise<boolean> {
    return this.#run(async (db) => (await db.query(PG_SQL.deleteBinding, [appId, userId, now])).changes === 1);
  }

  async wasUnbound(appId: string, openId: string): Promise<boolean> {
    return this.#run(async (db) => (await db.query(PG_SQL.wasUnbound, [appId, openId])).changes === 1);
  }

  // --- single-use codes ---

  async saveBindCode(hash: string, record: BindCodeRecord, now: number): Promise<void> {
    await this.#run((db) => db.query(PG_SQL.insertBindCode, [hash, record.appId, record.openId, record.unionId ?? null, record.expiresAt, now]));
  }

  async saveLoginCode(hash: string, record: LoginCodeRecord, now: number): Promise<void> {
    await this.#run((db) => this.#insertLoginCode(db, hash, record, now));
  }

  consumeCode(kind: "bind", hash: string, now: number): Promise<ConsumeResult<BindCodeRecord>>;
  consumeCode(kind: "login", hash: string, now: number): Promise<ConsumeResult<LoginCodeRecord>>;
  async consumeCode(kind: CodeKind, hash: string, now: number): Promise<ConsumeResult<BindCodeRecord> | ConsumeResult<LoginCodeRecord>> {
    return this.#run<ConsumeResult<BindCodeRecord> | ConsumeResult<LoginCodeRecord>>((db) =>
      kind === "bind" ? this.#consumeBind(db, hash, now) : this.#consumeLogin(db, hash, now),
    );
  }

  async redeemBindCode(hash: string, now: number, options: RedeemOptions): Promise<RedeemResult> {
    return this.#run(() =>
      this.#transaction<RedeemResult>(async (client) => {
        const consumed = await this.#consumeBind(client, hash, now);
        // A code minted for another mini program is not this one's to spend: roll back so it
        // stays usable where it belongs, and answer as if it were unknown.
        if (consumed.status !== "invalid" && consumed.record.appId !== options.appId) return new Rollback({ status: "invalid" });
        if (consumed.status !== "ok") return { status: consumed.status };
        const code = consumed.record;
        let user: UserRecord;
        try {
          user = toUser((await client.query<UserRow>(PG_SQL.insertBoundUser, [options.name ?? null, now, code.appId, code.openId, code.unionId])).rows[0]!);
        } catch (err) {
          // The user is new, so only the identity can be taken; the transaction (and the
          // code's use) rolls back.
          if (sqlState(err) === UNIQUE_VIOLATION && constraintOf(err) === "identities_subject") {
            throw new LoginError("WECHAT_ALREADY_BOUND", { appId: code.appId });
          }
          throw err;
        }
        if (options.phone) {
          // A number on another user rolls the whole registration back (the code stays unused).
          await this.#setPhone(client, user.userId, options.phone);
          user.phone = options.phone;
        }
        if (options.corp) {
          await client.query(PG_SQL.joinCorp, [options.corp.corpId, options.corp.corpName, user.userId, now]);
        }
        if (options.loginCode) {
          const { hash: loginHash, expiresAt, loginType } = options.loginCode;
          const origin = { loginType, appId: code.appId, openId: code.openId };
          await this.#insertLoginCode(client, loginHash, { appId: code.appId, userId: user.userId, expiresAt, origin }, now);
        }
        const binding: BindingRecord = { appId: code.appId, openId: code.openId, unionId: code.unionId, userId: user.userId, createdAt: now };
        return { status: "ok", user, binding };
      }),
    );
  }

  async redeemLoginCode(hash: string, now: number, session: { tokenHash: string; expiresAt: number; corpId?: string | null }): Promise<LoginRedeemResult> {
    return this.#run(() =>
      this.#transaction<LoginRedeemResult>(async (client) => {
        // The membership check, the guarded update and the session insert in one
        // transaction: a code is never spent on a corp its user is not in.
        const corpId = session.corpId ?? null;
        const row =
          corpId === null
            ? (await client.query<LoginCodeRow>(PG_SQL.consumeLoginCode, [now, hash])).rows[0]
            : (await client.query<LoginCodeRow>(PG_SQL.consumeLoginCodeInCorp, [now, hash, corpId])).rows[0];
        if (!row) {
          // Not taken: unknown or used, or live and held back by the corp condition.
          const held = corpId !== null && (await client.query(PG_SQL.loginCodeUnused, [hash])).changes === 1;
          return { status: held ? "not_member" : "invalid" };
        }
        const consumedCode = consumed(toLoginCode(row), now);
        if (consumedCode.status !== "ok") return { status: "expired" };
        const { userId, origin } = consumedCode.record;
        const sessionCorp = corpId ?? (await client.query<{ corp_id: string }>(PG_SQL.firstCorpOf, [userId])).rows[0]?.corp_id ?? null;
        const record: SessionRecord = { userId, corpId: sessionCorp, createdAt: now, expiresAt: session.expiresAt, origin: origin ?? null };
        await this.#insertSession(client, session.tokenHash, record, now);
        return { status: "ok", session: record };
      }),
    );
  }

  // --- password credentials ---

  async findPasswordCredential(realm: string, username: string): Promise<PasswordCredentialRecord | null> {
    return this.#run(async (db) => {
      const row = (await db.query<PasswordRow>(PG_SQL.passwordByUsername, [realm, username])).rows[0];
      return row ? toPassword(row) : null;
    });
  }

  async findPasswordCredentialByUser(realm: string, userId: number): Promise<PasswordCredentialRecord | null> {
    return this.#run(async (db) => {
      const row = (await db.query<PasswordRow>(PG_SQL.passwordByUser, [userId, realm])).rows[0];
      return row ? toPassword(row) : null;
    });
  }

  async registerPasswordUser(input: PasswordRegistration, now: number): Promise<UserRecord> {
    return this.#run(() =>
      this.#transaction<UserRecord>(async (client) => {
        let user: UserRecord;
        try {
          user = toUser((await client.query<UserRow>(PG_SQL.insertPasswordUser, [input.name ?? null, now, input.realm, input.username, input.passwordHash])).rows[0]!);
        } catch (err) {
          // The user is new, so only the username can be taken; the transaction rolls back.
          if (sqlState(err) === UNIQUE_VIOLATION && constraintOf(err) === "identities_subject") throw usernameTaken(input.realm);
          throw err;
        }
        if (input.corp) await client.query(PG_SQL.joinCorp, [input.corp.corpId, input.corp.corpName, user.userId, now]);
        const { hash, expiresAt, loginType } = input.loginCode;
        const origin = { loginType, appId: input.realm, openId: input.username };
        await this.#insertLoginCode(client, hash, { appId: input.realm, userId: user.userId, expiresAt, origin }, now);
        return user;
      }),
    );
  }

  async createPasswordCredential(c: Omit<PasswordCredentialRecord, "createdAt" | "updatedAt">, now: number): Promise<PasswordCredentialRecord> {
    return this.#run(async (db) => {
      try {
        await db.query(PG_SQL.insertPassword, [c.realm, c.username, c.userId, c.passwordHash, now]);
      } catch (err) {
        if (sqlState(err) === FOREIGN_KEY_VIOLATION) throw new LoginError("USER_NOT_FOUND", { userId: c.userId });
        if (sqlState(err) === UNIQUE_VIOLATION && constraintOf(err) === "identities_user") {
          throw new LoginError("PASSWORD_ALREADY_SET", { userId: c.userId, fullName: c.realm });
        }
        if (sqlState(err) === UNIQUE_VIOLATION && constraintOf(err) === "identities_subject") {
          const holder = (await db.query<{ user_id: number }>(PG_SQL.passwordByUsername, [c.realm, c.username])).rows[0];
          if (holder?.user_id === c.userId) throw new LoginError("PASSWORD_ALREADY_SET", { userId: c.userId, fullName: c.realm });
          throw usernameTaken(c.realm);
        }
        throw err;
      }
      return { ...c, createdAt: now, updatedAt: now };
    });
  }

  async updatePasswordHash(realm: string, userId: number, passwordHash: string, now: number, options: { endSessions?: boolean; keepTokenHash?: string | null } = {}): Promise<boolean> {
    return this.#run(async (db) => {
      const params = [passwordHash, now, userId, realm, options.endSessions === true, options.keepTokenHash ?? null];
      return (await db.query(PG_SQL.updatePassword, params)).changes === 1;
    });
  }

  async deletePasswordCredential(realm: string, userId: number, now: number): Promise<boolean> {
    return this.#run(async (db) => (await db.query(PG_SQL.deletePassword, [userId, realm, now])).changes === 1);
  }

  // --- login sessions ---

  async createSession(tokenHash: string, record: Omit<SessionRecord, "createdAt">, now: number): Promise<void> {
    await this.#run((db) => this.#insertSession(db, tokenHash, record, now));
  }

  async getSession(tokenHash: string, now: number): Promise<SessionRecord | null> {
    return this.#run(async (db) => {
      const row = (await db.query<SessionRow>(PG_SQL.getSession, [tokenHash, now])).rows[0];
      return row ? toSession(row) : null;
    });
  }

  async deleteSession(tokenHash: string): Promise<boolean> {
    return this.#run(async (db) => (await db.query(PG_SQL.deleteSession, [tokenHash])).changes > 0);
  }

  // --- admin reads and actions (the console) ---

  async listUsers(query: AdminUserQuery, now: number): Promise<{ users: AdminUserView[]; total: number }> {
    return this.#run((db) => listUsers(db, query, now));
  }

  async listUserSessions(userId: number, now: number): Promise<AdminSessionView[]> {
    return this.#run((db) => listUserSessions(db, userId, now));
  }

  async deleteUserSession(userId: number, sessionId: string): Promise<boolean> {
    if (!SESSION_ID.test(sessionId)) return false;
    return this.#run(async (db) => (await db.query(ADMIN_PG.deleteUserSession, [userId, sessionId])).changes > 0);
  }


  // --- WeChat session keys ---

  async putSessionKey(appId: string, openId: string, sealed: string, now: number): Promise<void> {
    await this.#run((db) => db.query(PG_SQL.putSessionKey, [appId, openId, sealed, now]));
  }

  async getSessionKey(appId: string, openId: string): Promise<{ sealed: string; updatedAt: number } | null> {
    return this.#run(async (db) => {
      const row = (await db.query<{ sealed: string; updated_at: number }>(PG_SQL.getSessionKey, [appId, openId])).rows[0];
      return row ? { sealed: row.sealed, updatedAt: row.updated_at } : null;
    });
  }

  // --- phone numbers ---

  async setUserPhone(userId: number, phone: string, _now: number): Promise<void> {
    await this.#run((db) => this.#setPhone(db, userId, phone));
  }

  async findUserIdByPhone(phone: string): Promise<number | null> {
    return this.#run(async (db) => (await db.query<{ user_id: number }>(PG_SQL.userIdByPhone, [phone])).rows[0]?.user_id ?? null);
  }

  // --- WeChat access tokens ---

  async getAccessToken(appId: string): Promise<AccessTokenRecord | null> {
    return this.#run(async (db) => {
      const row = (await db.query<{ sealed: string | null; expires_at: number; lease_owner: string | null; lease_until: number }>(PG_SQL.getAccessToken, [appId])).rows[0];
      return row ? { sealed: row.sealed, expiresAt: row.expires_at, leaseOwner: row.lease_owner, leaseUntil: row.lease_until } : null;
    });
  }

  async claimAccessTokenFetch(appId: string, owner: string, now: number, leaseUntil: number, staleAt: number): Promise<boolean> {
    return this.#run(async (db) => (await db.query(PG_SQL.claimTokenFetch, [appId, owner, leaseUntil, now, staleAt])).changes === 1);
  }

  async saveAccessToken(appId: string, owner: string, sealed: string | null, expiresAt: number): Promise<void> {
    await this.#run((db) => db.query(PG_SQL.saveAccessToken, [appId, owner, sealed, expiresAt]));
  }

  async invalidateAccessToken(appId: string, sealed: string): Promise<boolean> {
    return this.#run(async (db) => (await db.query(PG_SQL.invalidateAccessToken, [appId, sealed])).changes === 1);
  }

  async claimForceRefresh(appId: string, now: number, rule: ForceRefreshRule): Promise<boolean> {
    return this.#run(async (db) => (await db.query(PG_SQL.claimForceRefresh, [appId, rule.day, now, now - rule.minIntervalMs, rule.maxPerDay])).changes === 1);
  }


  // --- the wx.login code ledger ---

  async claimWxCode(hash: string, claim: WxCodeClaim, now: number): Promise<WxCodeState> {
    return this.#run(async (db) => {
      const params = [hash, claim.appId, claim.use, claim.holder, claim.leaseUntil, claim.expiresAt, now];
      // The read after a refused claim may find no row when a purge removed the entry in
      // between: the claim is then simply tried again (it inserts).
      for (;;) {
        const taken = (await db.query<{ holder: string }>(PG_SQL.claimWxCode, params)).rows[0];
        if (taken?.holder === claim.holder) return { status: "claimed" };
        const row = (await db.query<WxCodeRow>(PG_SQL.getWxCode, [hash])).rows[0];
        if (row) return wxCodeState(row);
      }
    });
  }

  async settleWxCode(hash: string, holder: string, outcome: WxCodeOutcome, expiresAt: number): Promise<boolean> {
    const sealed = outcome.state === "answered" ? outcome.sealed : null;
    return this.#run(async (db) => (await db.query(PG_SQL.settleWxCode, [outcome.state, sealed, expiresAt, hash, holder])).changes === 1);
  }

  async hitRateWindow(key: string, windowMs: number, now: number): Promise<{ count: number; resetAt: number }> {
    return this.#run(async (db) => {
      const row = (await db.query<{ count: number; reset_at: number }>(PG_SQL.hitRateWindow, [key, now, windowMs])).rows[0]!;
      return { count: row.count, resetAt: row.reset_at };
    });
  }

  // --- failed-login backoff ---

  async loginFailureState(keys: string[], now: number): Promise<LoginFailureState> {
    const checked = requireLoginFailureKeys("loginFailureState", keys, now);
    return this.#run(async (db) => {
      const { rows } = await db.query<LoginFailureDbRow & { key_hash: string }>(PG_SQL.loginFailures, [checked]);
      return loginFailureStateOf(new Map(rows.map((r) => [r.key_hash, toLoginFailure(r)])), now);
    });
  }

  /**
   * One transaction: the keys' rows locked (created when missing), advanced by one failure
   * each with loginFailures.ts's arithmetic, written back. A failure from another process
   * waits for the locks and then reads what this one wrote.
   */
  async recordLoginFailure(rules: LoginFailureRule[], now: number): Promise<number> {
    const checked = requireLoginFailureRules("recordLoginFailure", rules, now);
    const keys = checked.map((r) => r.key);
    return this.#run(() =>
      this.#transaction(async (client) => {
        const { rows } = await client.query<LoginFailureDbRow & { key_hash: string }>(PG_SQL.lockLoginFailures, [keys]);
        const stored = new Map(rows.map((r) => [r.key_hash, toLoginFailure(r)]));
        const next = checked.map(({ key, ...rule }) => afterFailure(stored.get(key), rule, now));
        await client.query(PG_SQL.putLoginFailures, [keys, next.map((n) => n.failures), next.map((n) => n.lockedUntil), next.map((n) => n.forgetAt)]);
        return Math.max(0, ...next.map((n) => n.lockedUntil));
      }),
    );
  }

  async clearLoginFailures(keys: string[]): Promise<void> {
    const checked = requireLoginFailureKeys("clearLoginFailures", keys);
    await this.#run((db) => db.query(PG_SQL.clearLoginFailures, [checked]));
  }

  async purgeExpired(now: number): Promise<PurgeCounts> {
    return this.#run(async (db) => {
      type Counts = { bind_codes: number; login_codes: number; sessions: number; wx_codes: number; rate_windows: number; login_failures: number };
      const row = (await db.query<Counts>(PG_SQL.purge, [now])).rows[0]!;
      return {
        bindCodes: row.bind_codes,
        loginCodes: row.login_codes,
        sessions: row.sessions,
        wxCodes: row.wx_codes,
        rateWindows: row.rate_windows,
        loginFailures: row.login_failures,
      };
    });
  }

  async ping(): Promise<void> {
    await this.#run((db) => db.query(PG_SQL.ping));
  }

  /** Ends the pool: idle connections now, busy ones as their queries finish. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#ownsDatabase ? this.#db.close() : Promise.resolve();
    return this.#closing;
  }

  // --- helpers ---

  /**
   * Runs one method's database work: STORE_CLOSED after close. The handle already answers
   * STORE_UNAVAILABLE when the database does not (its query and transaction).
   */
  async #run<T>(work: (db: Queryable) => Promise<T>): Promise<T> {
    if (this.#closing) throw new StoreError("STORE_CLOSED", { file: this.label });
    return work(this.#db);
  }

  /**
   * The handle's transaction (BEGIN … COMMIT on one pooled client). A thrown error rolls
   * back; so does a Rollback result, whose value is then returned.
   */
  async #transaction<T>(work: (tx: Queryable) => Promise<T | Rollback<T>>): Promise<T> {
    try {
      return await this.#db.transaction(async (tx) => {
        const result = await work(tx);
        if (result instanceof Rollback) throw result;
        return result;
      });
    } catch (err) {
      if (err instanceof Rollback) return err.value as T;
      throw err;
    }
  }

  /** The named unique constraint decides: its violation is PHONE_TAKEN, whoever got there first. */
  async #setPhone(db: Queryable, userId: number, phone: string): Promise<void> {
    let changed: number;
    try {
      changed = (await db.query(PG_SQL.setUserPhone, [phone, userId])).changes;
    } catch (err) {
      if (sqlState(err) === UNIQUE_VIOLATION && constraintOf(err) === "users_phone_unique") throw new LoginError("PHONE_TAKEN");
      throw err;
    }
    if (changed !== 1) throw new LoginError("USER_NOT_FOUND", { userId });
  }

  async #bindingByOpenId(db: Queryable, appId: string, openId: string): Promise<BindingRecord | null> {
    const row = (await db.query<BindingRow>(PG_SQL.bindingByOpenId, [appId, openId])).rows[0];
    return row ? toBinding(row) : null;
  }

  async #bindingByUser(db: Queryable, appId: string, userId: number): Promise<BindingRecord | null> {
    const row = (await db.query<BindingRow>(PG_SQL.bindingByUser, [appId, userId])).rows[0];
    return row ? toBinding(row) : null;
  }

  /** ARGUMENT_INVALID for an origin in another mini program: one app_id column holds both. */
  async #insertLoginCode(db: Queryable, hash: string, record: LoginCodeRecord, now: number): Promise<void> {
    const origin = record.origin ?? null;
    if (origin && origin.appId !== record.appId) {
      throw new ElementError("ARGUMENT_INVALID", { argument: "record.origin.appId", function: "saveLoginCode", reason: "must equal record.appId" });
    }
    const params = [hash, record.appId, record.userId, record.expiresAt, now, origin?.loginType ?? null, origin?.openId ?? null];
    await this.#referencingUser(record.userId, db.query(PG_SQL.insertLoginCode, params));
  }

  async #insertSession(db: Queryable, tokenHash: string, record: Omit<SessionRecord, "createdAt">, now: number): Promise<void> {
    const origin = record.origin ?? null;
    const params = [tokenHash, record.userId, record.corpId ?? null, now, record.expiresAt, origin?.loginType ?? null, origin?.appId ?? null, origin?.openId ?? null];
    await this.#referencingUser(record.userId, db.query(PG_SQL.insertSession, params));
  }

  /** Rows that reference a user (login codes, sessions): a missing user is USER_NOT_FOUND. */
  async #referencingUser<T>(userId: number, insert: Promise<T>): Promise<T> {
    try {
      return await insert;
    } catch (err) {
      if (sqlState(err) === FOREIGN_KEY_VIOLATION) throw new LoginError("USER_NOT_FOUND", { userId });
      throw err;
    }
  }

  async #consumeBind(db: Queryable, hash: string, now: number): Promise<ConsumeResult<BindCodeRecord>> {
    const row = (await db.query<BindCodeRow>(PG_SQL.consumeBindCode, [now, hash])).rows[0];
    return row ? consumed(toBindCode(row), now) : { status: "invalid" };
  }

  async #consumeLogin(db: Queryable, hash: string, now: number): Promise<ConsumeResult<LoginCodeRecord>> {
    const row = (await db.query<LoginCodeRow>(PG_SQL.consumeLoginCode, [now, hash])).rows[0];
    return row ? consumed(toLoginCode(row), now) : { status: "invalid" };
  }
}

/** The named constraint a PostgreSQL error reports (migrations.ts names every one the store relies on). */
function constraintOf(err: unknown): string | undefined {
  const name = (err as { constraint?: unknown } | null)?.constraint;
  return typeof name === "string" ? name : undefined;
}

/** A code is live strictly before its expiry instant; an expired one is spent all the same. */
function consumed<T extends { expiresAt: number }>(record: T, now: number): ConsumeResult<T> {
  return record.expiresAt <= now ? { status: "expired", record } : { status: "ok", record };
}
