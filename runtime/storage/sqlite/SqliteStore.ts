import type Database from "better-sqlite3";
import { ElementError, LoginError } from "../../errors/index.ts";
import type {
  BindCodeRecord,
  BindingRecord,
  CodeKind,
  ConsumeResult,
  CorpRecord,
  LoginCodeRecord,
  RedeemResult,
  SessionRecord,
  Store,
  UserRecord,
} from "../Store.ts";
import {
  bindingConflict,
  missingUser,
  toBindCode,
  toBinding,
  toLoginCode,
  toSession,
  toUser,
  type BindCodeRow,
  type BindingRow,
  type LoginCodeRow,
  type SessionRow,
  type UserRow,
} from "./rows.ts";
import { insertSeedUsers, type SeedOptions, type SeedResult } from "./seed.ts";
import { GroupCommit } from "./groupCommit.ts";
import { prepareAll, type Statements } from "./statements.ts";

/**
 * The Store port on one better-sqlite3 connection. better-sqlite3 is synchronous and a
 * transaction commits at the first `await`, so every method does all of its database work
 * synchronously and only the outer method is async.
 *
 * Every write goes through one GroupCommit (groupCommit.ts, where the concurrency contract
 * is written down): the writes of one event-loop turn share one IMMEDIATE transaction
 * (which takes the write lock up front, so it never fails half-way on a lock upgrade) and
 * one fsync, each write in its own savepoint, and each promise settles after that commit.
 * Reads run at once, on committed data.
 *
 * Codes and tokens are looked up by their SHA-256 hash through the primary key; the hash
 * of a guess reveals nothing about a stored code, so no constant-time compare is needed
 * here (the clear value never reaches the store).
 */
/** Thrown inside a transaction to roll it back when a bind code belongs to another mini program. */
const FOREIGN_CODE = Symbol("foreign bind code");

export class SqliteStore implements Store {
  readonly file: string;
  readonly #db: Database.Database;
  readonly #q: Statements;
  readonly #commits: GroupCommit;

  constructor(db: Database.Database, file: string) {
    this.#db = db;
    this.file = file;
    this.#q = prepareAll(db);
    this.#commits = new GroupCommit(db, { walFile: file === ":memory:" ? null : `${file}-wal` });
  }

  /** A unit of writes, all-or-nothing, settled once committed (see groupCommit.ts). */
  #write<T>(work: () => T): Promise<T> {
    return this.#commits.run(work);
  }

  /** The same for a unit of exactly one statement (no savepoint needed). */
  #write1<T>(work: () => T): Promise<T> {
    return this.#commits.run(work, true);
  }

  // --- users and organisations ---

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

  async createUser(input: { name?: string | null; corpId?: string | null }, now: number): Promise<UserRecord> {
    return this.#write(() => {
      const user = this.#insertUser(input.name ?? null, now);
      if (input.corpId) this.#addMember(input.corpId, user.userId, now, "createUser");
      return user;
    });
  }

  async getUser(userId: number): Promise<UserRecord | null> {
    const row = this.#q.getUser.get(userId) as UserRow | undefined;
    return row ? toUser(row) : null;
  }

  async upsertCorp(corp: CorpRecord): Promise<void> {
    await this.#write1(() => this.#q.upsertCorp.run(corp.corpId, corp.corpName));
  }

  async addCorpMember(corpId: string, userId: number, now: number): Promise<void> {
    await this.#write(() => {
      this.#requireUser(userId);
      this.#addMember(corpId, userId, now, "addCorpMember");
    });
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

  /** Checks run inside the caller's write unit (under the write lock), so no other writer slips in between. */
  #insertBinding(b: Omit<BindingRecord, "createdAt">, now: number): BindingRecord {
    const byOpenId = this.#q.bindingByOpenId.get(b.appId, b.openId) as BindingRow | undefined;
    if (byOpenId && byOpenId.user_id === b.userId) throw new LoginError("ALREADY_BOUND", { userId: b.userId, appId: b.appId });
    if (byOpenId) throw new LoginError("WECHAT_ALREADY_BOUND", { appId: b.appId });
    if (this.#q.bindingByUser.get(b.appId, b.userId) !== undefined) {
      throw new LoginError("ALREADY_BOUND", { userId: b.userId, appId: b.appId });
    }
    try {
      this.#q.insertBinding.run(b.appId, b.openId, b.unionId ?? null, b.userId, now);
    } catch (err) {
      throw bindingConflict(err, b);
    }
    // Bound again on purpose (bind or register): the unionId auto-link may use it again.
    this.#q.clearUnbound.run(b.appId, b.openId);
    return { appId: b.appId, openId: b.openId, unionId: b.unionId ?? null, userId: b.userId, createdAt: now };
  }

  async createBinding(binding: Omit<BindingRecord, "createdAt">, now: number): Promise<BindingRecord> {
    return this.#write(() => {
      this.#requireUser(binding.userId);
      return this.#insertBinding(binding, now);
    });
  }

  async deleteBinding(appId: string, userId: number, now: number): Promise<boolean> {
    // One unit: the binding never goes without its unbound mark (see Store.wasUnbound).
    return this.#write(() => {
      const row = this.#q.deleteBinding.get(appId, userId) as { open_id: string } | undefined;
      if (row === undefined) return false;
      this.#q.markUnbound.run(appId, row.open_id, now);
      return true;
    });
  }

  async wasUnbound(appId: string, openId: string): Promise<boolean> {
    return this.#q.wasUnbound.get(appId, openId) !== undefined;
  }

  // --- single-use codes ---

  async saveBindCode(hash: string, record: BindCodeRecord, now: number): Promise<void> {
    await this.#write1(() => this.#q.insertBindCode.run(hash, record.appId, record.openId, record.unionId ?? null, record.expiresAt, now));
  }

  async saveLoginCode(hash: string, record: LoginCodeRecord, now: number): Promise<void> {
    await this.#write1(() => {
      try {
        this.#q.insertLoginCode.run(hash, record.appId, record.userId, record.expiresAt, now);
      } catch (err) {
        throw missingUser(err, record.userId);
      }
    });
  }

  /**
   * The guarded UPDATE: at most one caller anywhere gets the row back. Through the write
   * queue, so a consume sees a save queued before it, and the "used" mark is durable before
   * the caller learns it won.
   */
  #consume<T>(statement: Database.Statement, hash: string, now: number, map: (row: never) => T & { expiresAt: number }): ConsumeResult<T> {
    const row = statement.get(now, hash);
    if (row === undefined) return { status: "invalid" };
    const record = map(row as never);
    // A code is live strictly before its expiry instant; an expired one is spent all the same.
    return record.expiresAt <= now ? { status: "expired", record } : { status: "ok", record };
  }

  consumeCode(kind: "bind", hash: string, now: number): Promise<ConsumeResult<BindCodeRecord>>;
  consumeCode(kind: "login", hash: string, now: number): Promise<ConsumeResult<LoginCodeRecord>>;
  async consumeCode(kind: CodeKind, hash: string, now: number): Promise<ConsumeResult<BindCodeRecord> | ConsumeResult<LoginCodeRecord>> {
    return this.#write1(() =>
      kind === "bind"
        ? this.#consume(this.#q.consumeBindCode, hash, now, (r: BindCodeRow) => toBindCode(r))
        : this.#consume(this.#q.consumeLoginCode, hash, now, (r: LoginCodeRow) => toLoginCode(r)),
    );
  }

  async redeemBindCode(hash: string, now: number, options: { appId: string; corp?: CorpRecord | null; name?: string | null }): Promise<RedeemResult> {
    // Everything below is one write unit (a savepoint in the batch's IMMEDIATE transaction):
    // a thrown error (WECHAT_ALREADY_BOUND) rolls back the consumption too, so the code stays usable.
    const redeem = this.#db.transaction((): RedeemResult => {
      const consumed = this.#consume(this.#q.consumeBindCode, hash, now, (r: BindCodeRow) => toBindCode(r));
      // A code minted for another mini program is not this one's to spend: roll back so it
      // stays usable where it belongs, and answer as if it were unknown.
      if (consumed.status !== "invalid" && consumed.record.appId !== options.appId) throw FOREIGN_CODE;
      if (consumed.status !== "ok") return { status: consumed.status };
      const code = consumed.record;
      const user = this.#insertUser(options.name ?? null, now);
      const binding = this.#insertBinding({ appId: code.appId, openId: code.openId, unionId: code.unionId, userId: user.userId }, now);
      if (options.corp) {
        this.#q.upsertCorp.run(options.corp.corpId, options.corp.corpName);
        this.#q.addMember.run(options.corp.corpId, user.userId, now);
      }
      return { status: "ok", user, binding };
    });
    return this.#write(() => {
      try {
        return redeem();
      } catch (err) {
        if (err === FOREIGN_CODE) return { status: "invalid" } as const;
        throw err;
      }
    });
  }

  // --- login sessions ---

  async createSession(tokenHash: string, record: Omit<SessionRecord, "createdAt">, now: number): Promise<void> {
    await this.#write1(() => {
      try {
        this.#q.insertSession.run(tokenHash, record.userId, record.corpId ?? null, now, record.expiresAt);
      } catch (err) {
        throw missingUser(err, record.userId);
      }
    });
  }

  async getSession(tokenHash: string, now: number): Promise<SessionRecord | null> {
    const row = this.#q.getSession.get(tokenHash, now) as SessionRow | undefined;
    return row ? toSession(row) : null;
  }

  async deleteSession(tokenHash: string): Promise<boolean> {
    return this.#write1(() => this.#q.deleteSession.run(tokenHash).changes > 0);
  }

  // --- WeChat session keys ---

  async putSessionKey(appId: string, openId: string, sealed: string, now: number): Promise<void> {
    await this.#write1(() => this.#q.putSessionKey.run(appId, openId, sealed, now));
  }

  async getSessionKey(appId: string, openId: string): Promise<{ sealed: string; updatedAt: number } | null> {
    const row = this.#q.getSessionKey.get(appId, openId) as { sealed: string; updated_at: number } | undefined;
    return row ? { sealed: row.sealed, updatedAt: row.updated_at } : null;
  }

  async purgeExpired(now: number): Promise<{ bindCodes: number; loginCodes: number; sessions: number }> {
    return this.#write(() => ({
      bindCodes: this.#q.purgeBindExpired.run(now).changes + this.#q.purgeBindUsed.run(now).changes,
      loginCodes: this.#q.purgeLoginExpired.run(now).changes + this.#q.purgeLoginUsed.run(now).changes,
      sessions: this.#q.purgeSessions.run(now).changes,
    }));
  }

  async close(): Promise<void> {
    // Writes already queued are committed and made durable (or rejected) before the connection goes.
    await this.#commits.drain();
    if (this.#db.open) this.#db.close();
  }

  // --- SQLite-only extras (not part of the port) ---

  /** Connection settings in force, for tests and `jit doctor`-style checks. */
  settings(): { journalMode: string; foreignKeys: boolean; synchronous: number; busyTimeoutMs: number; schemaVersion: number } {
    const p = (name: string) => this.#db.pragma(name, { simple: true });
    return {
      journalMode: String(p("journal_mode")),
      foreignKeys: p("foreign_keys") === 1,
      synchronous: Number(p("synchronous")),
      busyTimeoutMs: Number(p("busy_timeout")),
      schemaVersion: Number(p("user_version")),
    };
  }

  /** Bulk insert of users with bindings for benchmarks; see seed.ts. */
  seedUsers(options: SeedOptions): SeedResult {
    this.#commits.flush();
    return insertSeedUsers(this.#db, options);
  }
}
