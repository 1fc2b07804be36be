import { openDatabase, type PostgresDatabase } from "jit-runtime/element";
import { adoptPostgres, PG_MIGRATIONS } from "../migrations/postgres.ts";
import { PostgresStore } from "./PostgresStore.ts";

export { PostgresStore } from "./PostgresStore.ts";
export { PG_MIGRATIONS, PG_LATEST_VERSION } from "../migrations/postgres.ts";

export interface PostgresStoreOptions {
  /** postgres://user:password@host:port/database[?parameters] (runtime/database/postgres/config.ts lists the parameters). */
  url: string;
  /** Told about a pooled connection that broke while idle (see openPostgresDatabase). */
  onIdleError?: (info: { database: string; reason: string }) => void;
}

/** The login store on an open PostgreSQL handle: the family's migrations (under the handle's advisory lock), then the store. */
export async function openPostgresStoreOn(db: PostgresDatabase, ownsDatabase: boolean): Promise<PostgresStore> {
  await db.migrate("auths", PG_MIGRATIONS, { adopt: adoptPostgres });
  return new PostgresStore(db, ownsDatabase);
}

/**
 * Connects, brings the family's schema up to date and returns the store. Start-up fails with
 * STORE_OPEN_FAILED for a bad URL, a refused connection, a failed authentication or a
 * missing database, naming `host:port/database` and never the password.
 */
export async function openPostgresStore(options: PostgresStoreOptions): Promise<PostgresStore> {
  const db = (await openDatabase(options.url, options.onIdleError ? { onIdleError: options.onIdleError } : {})) as PostgresDatabase;
  try {
    return await openPostgresStoreOn(db, true);
  } catch (err) {
    await db.close();
    throw err;
  }
}
