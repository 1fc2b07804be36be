import { open, type FileHandle } from "node:fs/promises";
import { setTimeout as sleep } from "node:timers/promises";
import type Database from "better-sqlite3";
import { isJitError, StoreError } from "../../errors/index.ts";
import { applyPending, checkedMigrations, latestOf, tooNew } from "../migrations.ts";
import type {
  ConstraintViolation,
  Database as DatabaseHandle,
  MigrateOptions,
  Migration,
  MigrationReport,
  Row,
  RunResult,
  Transaction,
  UnitContext,
  WriteUnits,
} from "../types.ts";
import { sqliteConstraint } from "./constraints.ts";
import { InlineWrites, unitContext, type WriteChannel } from "./writeChannel.ts";

type Params = readonly unknown[] | undefined;

/** The handle's own write units (sqlUnits.ts): run() outside a transaction goes through the group commit. */
const SQL_UNITS = new URL(import.meta.url.endsWith(".ts") ? "./sqlUnits.ts" : "./sqlUnits.js", import.meta.url).href;

/**
 * The database handle on one SQLite file (see ../types.ts for the contract).
 *
 * Reads run at once on the handle's connection, on committed data, through statements
 * prepared once and kept by SQL text (better-sqlite3 would otherwise prepare per call, as
 * Kysely's SQLite driver does: docs/databases.md has the measure).
 *
 * Writes are named units of a family's module, run by the handle's WriteChannel on this
 * connection (InlineWrites) or on a writer thread with its own connection: the units of one
 * event-loop turn share one IMMEDIATE transaction and one WAL fsync (groupCommit.ts). A bare
 * `run()` outside a transaction is one such unit.
 *
 * `transaction(async tx => …)` holds this connection for the whole of `work`, awaits
 * included (better-sqlite3's own transactions commit at the first await): transactions run
 * one at a time, the group commit waits for them, and the COMMIT is followed by a WAL fsync
 * before the promise resolves.
 */
export class SqliteDatabase implements DatabaseHandle {
  readonly dialect = "sqlite" as const;
  readonly label: string;
  readonly file: string;
  readonly #db: Database.Database;
  readonly #writes: WriteChannel;
  readonly #inline: InlineWrites | null;
  readonly #ctx: UnitContext;
  readonly #names = new Map<string, string | null>();
  /** The transaction running or queued last: the next waits for it. */
  #txTail: Promise<unknown> = Promise.resolve();
  #inTransaction = false;
  #sqlUnits: Promise<void> | null = null;
  #wal: FileHandle | null = null;
  #closed = false;

  /** `writes`: a writer thread's channel; default the handle's own connection. */
  constructor(db: Database.Database, file: string, writes?: WriteChannel) {
    this.#db = db;
    this.file = file;
    this.label = file;
    this.#ctx = unitContext(db);
    this.#inline = writes ? null : new InlineWrites(db, file === ":memory:" ? null : `${file}-wal`, this.#ctx);
    this.#writes = writes ?? this.#inline!;
  }

  // --- statements ---

  async all<R = Row>(sql: string, params?: Params): Promise<R[]> {
    this.#open();
    return this.#ctx.prepare(sql).all(...((params ?? []) as never[])) as R[];
  }

  async get<R = Row>(sql: string, params?: Params): Promise<R | undefined> {
    this.#open();
    return this.#ctx.prepare(sql).get(...((params ?? []) as never[])) as R | undefined;
  }

  async run(sql: string, params?: Params): Promise<RunResult> {
    this.#open();
    // Always a unit, even while a transaction holds the connection: it then waits for that
    // transaction's end rather than joining it (inside one, write through its `tx`).
    await (this.#sqlUnits ??= this.#writes.load(SQL_UNITS));
    return (await this.#writes.run(SQL_UNITS, "run", [sql, params ?? []])) as RunResult;
  }

  #runNow(sql: string, params: Params): RunResult {
    return { changes: this.#ctx.prepare(sql).run(...((params ?? []) as never[])).changes };
  }

  // --- transactions, migrations, locks ---

  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T> {
    return this.#exclusive((tx) => work(tx));
  }

  /**
   * `work` alone on the connection, inside BEGIN IMMEDIATE (the write lock, so another
   * process waits for it up to busy_timeout) … COMMIT, then a WAL fsync.
   */
  #exclusive<T>(work: (tx: Transaction, exec: (sql: string) => Promise<void>) => Promise<T>): Promise<T> {
    this.#open();
    const run = async (): Promise<T> => {
      this.#open();
      const release = this.#inline?.commits.hold();
      this.#inTransaction = true;
      const tx: Transaction = {
        all: async (sql, params) => this.#ctx.prepare(sql).all(...((params ?? []) as never[])) as never,
        get: async (sql, params) => this.#ctx.prepare(sql).get(...((params ?? []) as never[])) as never,
        run: async (sql, params) => this.#runNow(sql, params),
      };
      const exec = async (sql: string): Promise<void> => void this.#db.exec(sql);
      try {
        await this.#beginImmediate();
        let result: T;
        try {
          result = await work(tx, exec);
          this.#db.exec("COMMIT");
        } catch (err) {
          if (this.#db.inTransaction) this.#db.exec("ROLLBACK");
          throw err;
        }
        await this.#syncWal();
        return result;
      } finally {
        this.#inTransaction = false;
        release?.();
      }
    };
    const next = this.#txTail.then(run, run);
    this.#txTail = next.catch(() => undefined);
    return next;
  }

  /**
   * BEGIN IMMEDIATE without blocking the event loop: SQLite's busy handler would sleep on
   * this thread while another connection holds the write lock, and when that holder is a
   * transaction of this same process awaiting something, it could never finish. So the lock
   * is tried without a wait and tried again after a timer, up to the connection's
   * busy_timeout.
   */
  async #beginImmediate(): Promise<void> {
    const timeout = Number(this.#db.pragma("busy_timeout", { simple: true }));
    const deadline = Date.now() + timeout;
    this.#db.pragma("busy_timeout = 0");
    try {
      for (let wait = 1; ; wait = Math.min(wait * 2, 50)) {
        try {
          this.#db.exec("BEGIN IMMEDIATE");
          return;
        } catch (err) {
          const code = (err as { code?: unknown }).code;
          if (typeof code !== "string" || !code.startsWith("SQLITE_BUSY") || Date.now() + wait > deadline) throw err;
        }
        await sleep(wait);
      }
    } finally {
      this.#db.pragma(`busy_timeout = ${Math.trunc(timeout)}`);
    }
  }

  async migrate(owner: string, migrations: readonly Migration[], options: MigrateOptions = {}): Promise<MigrationReport> {
    const sorted = checkedMigrations(owner, migrations);
    const latest = latestOf(sorted);
    // The common case takes no write lock: the ledger already says the owner is current.
    const seen = this.#ledgerNoLock(owner);
    if (seen !== null && seen > latest) throw tooNew(this.label, owner, seen, latest);
    if (seen === latest && latest > 0) return { owner, from: seen, to: seen, applied: [] };
    try {
      return await this.#exclusive((tx, exec) => applyPending(tx, exec, "sqlite", this.label, owner, sorted, options, Date.now()));
    } catch (err) {
      if (isJitError(err)) throw err;
      throw new StoreError("STORE_MIGRATION_FAILED", { file: this.label, version: "?", reason: err instanceof Error ? err.message : String(err) });
    }
  }

  #ledgerNoLock(owner: string): number | null {
    try {
      const row = this.#db.prepare("SELECT max(version) AS version FROM jit_migrations WHERE owner = ?").get(owner) as { version: number | null };
      return row.version ?? 0;
    } catch {
      return null; // no ledger yet
    }
  }

  /** One lock for every name on SQLite: the database's write lock, held for the whole of `work`. */
  withLock<T>(_name: string, work: () => Promise<T>): Promise<T> {
    return this.transaction(() => work());
  }

  constraintOf(err: unknown): ConstraintViolation | null {
    return sqliteConstraint(this.#db, err, this.#names);
  }

  async writeUnits(module: URL): Promise<WriteUnits> {
    this.#open();
    const href = module.href;
    await this.#writes.load(href);
    return {
      run: <T>(unit: string, ...args: unknown[]) => this.#writes.run(href, unit, args) as Promise<T>,
      flush: () => this.#writes.flush(),
    };
  }

  async ping(): Promise<void> {
    if (this.#closed || !this.#db.open) throw new StoreError("STORE_CLOSED", { file: this.label });
    try {
      this.#ctx.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = ''").get();
      // The writing connection too (a thread under jit serve: a dead one is replaced or
      // reported here). Reads only: a CLI holding the write lock must not fail health checks.
      await this.#writes.ping();
    } catch (err) {
      if (isJitError(err)) throw err;
      throw new StoreError("STORE_UNAVAILABLE", { file: this.label, reason: err instanceof Error ? err.message : String(err) });
    }
  }

  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    await this.#txTail;
    // Writes already queued are committed and made durable (or rejected) before the connection goes.
    await this.#writes.close();
    await this.#wal?.close();
    this.#wal = null;
    if (this.#db.open) this.#db.close();
  }

  // --- SQLite-only extras (not part of the handle's contract) ---

  /** The handle's connection as a write unit sees it, for bulk tools (seeding) that run synchronously. */
  unitContext(): UnitContext {
    return this.#ctx;
  }

  /** `read` synchronously in one read transaction on the handle's connection (a consistent snapshot). */
  snapshot<T>(read: () => T): T {
    this.#open();
    return this.#inTransaction ? read() : this.#db.transaction(read)();
  }

  /** Runs `work` synchronously in one IMMEDIATE transaction on the handle's connection (bulk tools). */
  immediate<T>(work: () => T): T {
    this.#writes.flush();
    return this.#db.transaction(work).immediate();
  }

  /** Connection settings in force, for tests and doctor-style checks. */
  settings(): { journalMode: string; foreignKeys: boolean; synchronous: number; busyTimeoutMs: number } {
    const p = (name: string) => this.#db.pragma(name, { simple: true });
    return {
      journalMode: String(p("journal_mode")),
      foreignKeys: p("foreign_keys") === 1,
      synchronous: Number(p("synchronous")),
      busyTimeoutMs: Number(p("busy_timeout")),
    };
  }

  /** The writer thread's channel, when writes run on one (tests of a thread's death). */
  get writeChannel(): WriteChannel {
    return this.#writes;
  }

  #open(): void {
    if (this.#closed || !this.#db.open) throw new StoreError("STORE_CLOSED", { file: this.label });
  }

  /** The handle's own commits are synchronous=NORMAL like the group commit's: the WAL is synced here. */
  async #syncWal(): Promise<void> {
    if (this.file === ":memory:") return;
    this.#wal ??= await open(`${this.file}-wal`, "r");
    await this.#wal.datasync();
  }
}

