import pg from "pg";
import { isJitError, StoreError } from "../../errors/index.ts";
import { parsePostgresUrl } from "./config.ts";
import { describe } from "./errors.ts";
import { migratePostgres } from "./migrations.ts";
import { PostgresStore } from "./PostgresStore.ts";
import { PG_TYPES } from "./rows.ts";

export { PostgresStore } from "./PostgresStore.ts";
export { isPostgresUrl, parsePostgresUrl, POSTGRES_DEFAULTS, type PostgresConfig } from "./config.ts";
export { PG_MIGRATIONS, PG_LATEST_VERSION, MIGRATION_LOCK_KEY, migratePostgres, type PgMigration } from "./migrations.ts";

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database[?parameters] (config.ts lists the parameters). */
  url: string;
  /**
   * Told about a pooled connection that broke while idle (the database restarted, a proxy
   * cut it). pg emits that on the pool, where an unheard error would end the process; the
   * pool has already dropped the connection and opens a new one when needed.
   */
  onIdleError?: (info: { database: string; reason: string }) => void;
}

/**
 * Connects, brings the schema up to date (migrations.ts: under an advisory lock, so several
 * processes may start at once) and returns the store on a pool.
 *
 * Start-up fails with STORE_OPEN_FAILED for a bad URL, a refused connection, a failed
 * authentication or a missing database, naming `host:port/database` and never the password.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const config = parsePostgresUrl(options.url);
  const client = new pg.Client({ ...config.pool, types: PG_TYPES });
  // A connection lost during start-up also fails the query in progress; this only keeps the
  // event from ending the process.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (err) {
    await client.end().catch(() => undefined);
    throw new StoreError("STORE_OPEN_FAILED", { file: config.label, reason: describe(err) });
  }
  try {
    await migratePostgres(client, config.label, { schema: config.schema });
  } catch (err) {
    if (isJitError(err)) throw err;
    throw new StoreError("STORE_MIGRATION_FAILED", { file: config.label, version: "?", reason: describe(err) });
  } finally {
    await client.end().catch(() => undefined);
  }

  const pool = new pg.Pool({ ...config.pool, types: PG_TYPES });
  pool.on("error", (err) => options.onIdleError?.({ database: config.label, reason: describe(err) }));
  return new PostgresStore(pool, config.label, { preparedStatements: config.preparedStatements });
}
