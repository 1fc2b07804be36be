/**
 * The database handle: what the runtime gives every family (login, models, an app
 * developer's own) to keep its data, and nothing of theirs. One handle per app database,
 * opened from a `databases.*` element (elements/databases/); docs/databases.md is the guide.
 *
 * Placeholders are `?` on both dialects (PostgreSQL's `$1…$n` are accepted as written, for
 * statements that name one parameter twice). Rows come back with their column names; times
 * and ids are numbers on both (PostgreSQL's int8 is parsed to a number, refusing a value
 * that would lose precision).
 */

export type Dialect = "sqlite" | "postgres";

/** A value a statement takes or a row holds. */
export type SqlValue = string | number | bigint | boolean | null | Buffer;

export type Row = Record<string, unknown>;

/** What a write statement changed. */
export interface RunResult {
  /** Rows inserted, updated or deleted. */
  changes: number;
}

/** Statements, outside or inside a transaction. */
export interface Queryable {
  /** Every row. */
  all<R = Row>(sql: string, params?: readonly SqlValue[]): Promise<R[]>;
  /** The first row, or undefined. */
  get<R = Row>(sql: string, params?: readonly SqlValue[]): Promise<R | undefined>;
  run(sql: string, params?: readonly SqlValue[]): Promise<RunResult>;
}

/** Inside `transaction(async tx => …)`: every statement runs on the transaction's connection. */
export type Transaction = Queryable;

/**
 * One schema change of one owner. `sql` may hold several statements. Never edit a released
 * migration: append one. A migration may give `up` instead of (or after) `sql` to move data
 * with statements of its own; it runs in the same transaction.
 */
export interface Migration {
  version: number;
  name: string;
  sql?: string;
  up?: (tx: Transaction) => Promise<void>;
}

export interface MigrateOptions {
  /**
   * For an owner whose schema predates the ledger (a database written before the owner
   * kept one): reads, inside the migration's transaction, which of `migrations` the
   * database already holds (0: none). Called only while the owner's ledger is empty.
   */
  adopt?: (tx: Transaction) => Promise<number>;
}

/** What migrate did: the version before, after, and the versions applied now. */
export interface MigrationReport {
  owner: string;
  from: number;
  to: number;
  applied: number[];
}

/**
 * A constraint violation, reported the same way on both dialects: `constraint` is the
 * name the migration gave the rule (`CONSTRAINT x UNIQUE (…)`, or a unique index's name).
 */
export interface ConstraintViolation {
  kind: "unique" | "foreign_key" | "check" | "not_null";
  /** The constraint or unique index name; null when the database does not say (SQLite foreign keys). */
  constraint: string | null;
  table: string | null;
}

/**
 * A statement as a synchronous write unit runs it (better-sqlite3's Statement fits this
 * shape). Prepared once per connection by `UnitContext.prepare`.
 */
export interface SyncStatement {
  run(...params: SqlValue[]): { changes: number; lastInsertRowid: number | bigint };
  get(...params: SqlValue[]): unknown;
  all(...params: SqlValue[]): unknown[];
}

/** What a family's write-unit module gets on the connection that writes (SQLite). */
export interface UnitContext {
  /** Prepared once per connection and kept (the hot path never re-prepares). */
  prepare(sql: string): SyncStatement;
  /** `work` in a nested transaction (a SAVEPOINT): a throw undoes only it. */
  nested<A extends unknown[], T>(work: (...args: A) => T): (...args: A) => T;
  /** The named violation behind a driver error, or null when `err` is not one. */
  constraintOf(err: unknown): ConstraintViolation | null;
}

/**
 * A family's write units (SQLite): a module, loaded by URL on whichever thread writes (the
 * caller's, or the handle's writer thread: functions cannot cross threads), exporting
 * `createUnits`. Each unit is synchronous and runs inside the handle's group commit: the
 * units called in one event-loop turn commit in one transaction and one fsync, each in its
 * own savepoint, in call order, and each promise settles once its commit is durable.
 * Arguments and results cross threads by structured clone: plain data only. A unit's typed
 * JitError keeps its class and code across the thread.
 */
export interface WriteUnitModule {
  createUnits(ctx: UnitContext): Record<string, (...args: never[]) => unknown>;
  /** Units of exactly one statement: they need no savepoint. */
  singleStatement?: readonly string[];
  /**
   * Units whose result, when this says so, may be answered at commit rather than after the
   * fsync (a claim taken before a network call): see runtime/database/sqlite/groupCommit.ts.
   */
  ackOnCommit?: Readonly<Record<string, (value: unknown) => boolean>>;
  /**
   * The family's error classes its units throw, by error family (e.g. `{ login: LoginError }`):
   * a typed error crosses the writer thread as data and is rebuilt with its class.
   */
  errorFamilies?: Readonly<Record<string, new (code: never, ...rest: never[]) => Error>>;
}

/** The runner of a family's write units on one handle. */
export interface WriteUnits {
  run<T = unknown>(unit: string, ...args: unknown[]): Promise<T>;
  /** Starts committing what is queued now, without waiting. */
  flush(): void;
}

export interface Database extends Queryable {
  readonly dialect: Dialect;
  /** What messages call the database: the SQLite file, or `host:port/database` (never a URL with credentials). */
  readonly label: string;
  /**
   * `work` in one transaction: committed when it resolves, rolled back when it throws. On
   * SQLite the handle holds its connection for the whole of `work` (awaits included) and
   * runs transactions one at a time (BEGIN IMMEDIATE); on PostgreSQL, one pooled client.
   * Durable at resolve on both. Inside `work`, write through `tx`: the handle's own `run`
   * waits for the transaction to end.
   */
  transaction<T>(work: (tx: Transaction) => Promise<T>): Promise<T>;
  /**
   * Brings `owner`'s schema up to the last of `migrations`, in ONE transaction (all pending
   * versions or none), under a lock (PostgreSQL: an advisory lock on a dedicated client, one
   * for every owner's migrations; SQLite: the write lock of BEGIN IMMEDIATE), recording each version in
   * the handle's ledger (`jit_migrations`: owner, version, name, applied_at). Two processes
   * starting at once migrate exactly once. A ledger newer than the code is refused with
   * StoreError STORE_MIGRATION_FAILED before anything runs.
   */
  migrate(owner: string, migrations: readonly Migration[], options?: MigrateOptions): Promise<MigrationReport>;
  /** `work` while holding a lock named `name`, across every process on this database. */
  withLock<T>(name: string, work: () => Promise<T>): Promise<T>;
  /** The named violation behind a driver error, or null. */
  constraintOf(err: unknown): ConstraintViolation | null;
  /**
   * SQLite only (`dialect === "sqlite"`): loads a family's write-unit module (see
   * WriteUnitModule) on the writing connection. The group commit and the writer thread are
   * the handle's: a family only names its units.
   */
  writeUnits(module: URL): Promise<WriteUnits>;
  /** Resolves when every connection the handle uses answers a read; STORE_CLOSED / STORE_UNAVAILABLE otherwise. */
  ping(): Promise<void>;
  /** Commits what is queued, then closes every connection. */
  close(): Promise<void>;
}
