import { createHash } from "node:crypto";
import pg from "pg";
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
  WriteUnits,
} from "../types.ts";
import type { PostgresConfig } from "./config.ts";
import { describe, toStoreError } from "./errors.ts";
import { toPostgresPlaceholders } from "./placeholders.ts";
import { PG_TYPES } from "./types.ts";

type Params = readonly unknown[] | undefined;
type Client = Pick<pg.PoolClient, "query">;

/** A transaction on PostgreSQL: also `query`, the rows and the count changed from one statement (a write with RETURNING). */
export type PostgresTransaction = Transaction & Pick<PostgresDatabase, "query">;
interface Statement {
  name?: string;
  text: string;
}

/** The key every process takes with the owner's (or lock's) name, so families never wait for each other. */
export const LOCK_NAMESPACE = 0x6a_69_74_6d; // "jitm"

const SQLSTATE_KIND: Record<string, ConstraintViolation["kind"]> = {
  "23505": "unique",
  "23503": "foreign_key",
  "23514": "check",
  "23502": "not_null",
};

/**
 * The database handle on a PostgreSQL database through a pg pool (see ../types.ts for the
 * contract), for several `jit serve` processes on one database.
 *
 * Every statement is sent as a named prepared statement (its name from a hash of its text):
 * each pooled connection parses and plans it once, then runs it with new parameters.
 * Measured on bench/login.ts: about 30% less PostgreSQL CPU per request. With
 * `prepared_statements=off` in the URL they go unnamed, for a pooler that cannot keep them
 * (PgBouncer in transaction mode before 1.21).
 *
 * A lost or refused connection, or a statement over its timeout, is STORE_UNAVAILABLE
 * (HTTP 503): the pool drops the broken client and opens a new one for the next query.
 */
export class PostgresDatabase implements DatabaseHandle {
  readonly dialect = "postgres" as const;
  readonly label: string;
  readonly #pool: pg.Pool;
  readonly #config: PostgresConfig;
  readonly #statements = new Map<string, Statement>();
  #closing: Promise<void> | undefined;

  constructor(pool: pg.Pool, config: PostgresConfig) {
    this.#pool = pool;
    this.#config = config;
    this.label = config.label;
  }

  /** Whether statements go as named prepared statements (the URL's prepared_statements). */
  get preparedStatements(): boolean {
    return this.#config.preparedStatements;
  }

  // --- statements ---

  async all<R = Row>(sql: string, params?: Params): Promise<R[]> {
    return (await this.query<R>(sql, params)).rows;
  }

  async get<R = Row>(sql: string, params?: Params): Promise<R | undefined> {
    return (await this.query<R>(sql, params)).rows[0];
  }

  async run(sql: string, params?: Params): Promise<RunResult> {
    return { changes: (await this.query(sql, params)).changes };
  }

  /** Rows and the count of rows changed, from one statement (a write with RETURNING). */
  async query<R = Row>(sql: string, params?: Params): Promise<{ rows: R[]; changes: number }> {
    this.#open();
    try {
      return await runOn(this.#pool, this.statement(sql), params);
    } catch (err) {
      throw toStoreError(err, this.label);
    }
  }

  /** The statement as pg takes it: numbered placeholders, and a name when prepared statements are on. */
  statement(sql: string): Statement {
    let statement = this.#statements.get(sql);
    if (!statement) {
      const text = toPostgresPlaceholders(sql);
      statement = this.#config.preparedStatements ? { name: `jit_${createHash("sha1").update(text).digest("hex").slice(0, 20)}`, text } : { text };
      this.#statements.set(sql, statement);
    }
    return statement;
  }

  // --- transactions, migrations, locks ---

  /**
   * BEGIN … COMMIT on one pooled client (released in finally). A client whose connection
   * broke is destroyed rather than put back in the pool.
   */
  async transaction<T>(work: (tx: PostgresTransaction) => Promise<T>): Promise<T> {
    this.#open();
    let client: pg.PoolClient;
    try {
      client = await this.#pool.connect();
    } catch (err) {
      throw toStoreError(err, this.label);
    }
    let broken: Error | undefined;
    // A checked-out client has no listener of the pool's: a connection lost now would be an
    // unheard 'error' event, which ends the process. The query in progress fails with it too.
    const onError = (err: Error) => (broken = err);
    client.on("error", onError);
    try {
      await client.query("BEGIN");
      const result = await work(this.#on(client));
      await client.query("COMMIT");
      return result;
    } catch (err) {
      await client.query("ROLLBACK").catch((rollbackErr: unknown) => {
        broken = rollbackErr instanceof Error ? rollbackErr : new Error(String(rollbackErr));
      });
      throw toStoreError(err, this.label);
    } finally {
      client.off("error", onError);
      client.release(broken);
    }
  }

  #on(client: Client): PostgresTransaction {
    const query = <R>(sql: string, params?: Params) => runOn<R>(client, this.statement(sql), params);
    return {
      query,
      all: async (sql, params) => (await query(sql, params)).rows as never,
      get: async (sql, params) => (await query(sql, params)).rows[0] as never,
      run: async (sql, params) => ({ changes: (await query(sql, params)).changes }),
    };
  }

  /**
   * On a dedicated connection (not the pool's: a migration may outlast a request's
   * statement_timeout, and the advisory lock is the session's): the migrations' advisory lock,
   * then every pending migration in one transaction, then unlock. A process killed
   * mid-migration releases the lock with its connection and its transaction rolls back.
   */
  async migrate(owner: string, migrations: readonly Migration[], options: MigrateOptions = {}): Promise<MigrationReport> {
    const sorted = checkedMigrations(owner, migrations);
    return this.#dedicated(async (client) => {
      await client.query("SET statement_timeout = 0");
      // One lock for every owner's migrations: creating the schema and the ledger table races
      // between owners too (CREATE … IF NOT EXISTS is not safe under concurrency).
      await client.query("SELECT pg_advisory_lock($1, hashtext($2))", [LOCK_NAMESPACE, "migrate"]);
      try {
        // The schema name was checked against [a-z_][a-z0-9_]* (config.ts).
        if (this.#config.schema !== null) await client.query(`CREATE SCHEMA IF NOT EXISTS ${this.#config.schema}`);
        await client.query("BEGIN");
        try {
          const tx = this.#on(client);
          const report = await applyPending(tx, async (sql) => void (await client.query(sql)), "postgres", this.label, owner, sorted, options, Date.now());
          await client.query("COMMIT");
          return report;
        } catch (err) {
          await client.query("ROLLBACK").catch(() => undefined);
          throw err;
        }
      } finally {
        await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [LOCK_NAMESPACE, "migrate"]).catch(() => undefined);
      }
    }).catch((err: unknown) => {
      if (isJitError(err)) throw err;
      throw new StoreError("STORE_MIGRATION_FAILED", { file: this.label, version: latestOf(sorted), reason: describe(err) });
    });
  }

  /** `work` under the session advisory lock (LOCK_NAMESPACE, hashtext(name)) on a dedicated connection. */
  withLock<T>(name: string, work: () => Promise<T>): Promise<T> {
    return this.#dedicated(async (client) => {
      await client.query("SELECT pg_advisory_lock($1, hashtext($2))", [LOCK_NAMESPACE, `lock:${name}`]);
      try {
        return await work();
      } finally {
        await client.query("SELECT pg_advisory_unlock($1, hashtext($2))", [LOCK_NAMESPACE, `lock:${name}`]).catch(() => undefined);
      }
    });
  }

  async #dedicated<T>(work: (client: pg.Client) => Promise<T>): Promise<T> {
    this.#open();
    const client = new pg.Client({ ...this.#config.pool, types: PG_TYPES });
    // A connection lost meanwhile also fails the query in progress; this only keeps the
    // event from ending the process.
    client.on("error", () => undefined);
    try {
      await client.connect();
    } catch (err) {
      await client.end().catch(() => undefined);
      throw new StoreError("STORE_OPEN_FAILED", { file: this.label, reason: describe(err) });
    }
    try {
      return await work(client);
    } finally {
      await client.end().catch(() => undefined);
    }
  }

  constraintOf(err: unknown): ConstraintViolation | null {
    const e = err as { code?: unknown; constraint?: unknown; table?: unknown } | null;
    const kind = typeof e?.code === "string" ? SQLSTATE_KIND[e.code] : undefined;
    if (!kind) return null;
    return { kind, constraint: typeof e!.constraint === "string" ? e!.constraint : null, table: typeof e!.table === "string" ? e!.table : null };
  }

  writeUnits(): Promise<WriteUnits> {
    return Promise.reject(new TypeError("writeUnits is SQLite's group commit; on PostgreSQL use transaction() or single statements"));
  }

  async ping(): Promise<void> {
    await this.query("SELECT 1 AS ok");
  }

  /** Ends the pool: idle connections now, busy ones as their queries finish. Idempotent. */
  close(): Promise<void> {
    this.#closing ??= this.#pool.end();
    return this.#closing;
  }

  get closed(): boolean {
    return this.#closing !== undefined;
  }

  #open(): void {
    if (this.#closing) throw new StoreError("STORE_CLOSED", { file: this.label });
  }
}

async function runOn<R>(client: Client, statement: Statement, params: Params): Promise<{ rows: R[]; changes: number }> {
  const result = await client.query<R & pg.QueryResultRow>({ ...statement, values: params as unknown[] | undefined });
  return { rows: result.rows, changes: result.rowCount ?? 0 };
}

/** Connects (checking the server answers) and returns the handle on a pool. STORE_OPEN_FAILED names host:port/database, never the credentials. */
export async function openPostgresDatabase(
  config: PostgresConfig,
  options: { onIdleError?: (info: { database: string; reason: string }) => void } = {},
): Promise<PostgresDatabase> {
  const pool = new pg.Pool({ ...config.pool, types: PG_TYPES });
  pool.on("error", (err) => options.onIdleError?.({ database: config.label, reason: describe(err) }));
  try {
    const client = await pool.connect();
    client.release();
  } catch (err) {
    await pool.end().catch(() => undefined);
    throw new StoreError("STORE_OPEN_FAILED", { file: config.label, reason: describe(err) });
  }
  return new PostgresDatabase(pool, config);
}
