import { openDatabase, type Database, type OpenDatabaseOptions, type PostgresDatabase, type SqliteDatabase, type SqliteWriter } from "jit-runtime/element";
export { databaseLabel } from "jit-runtime/element";
import type { Store } from "./Store.ts";


export interface OpenStoreOptions extends Omit<OpenDatabaseOptions, "sqliteWriter"> {
  sqliteWriter?: SqliteWriter;
}

/**
 * The login family's store on a database handle: the family migrates its own tables there
 * (owner "auths"), then keeps its statements behind the handle. The handle stays its
 * opener's (App closes it).
 */
export async function openLoginStore(db: Database): Promise<Store> {
  if (db.dialect === "postgres") {
    const { openPostgresStoreOn } = await import("./postgres/index.ts");
    return openPostgresStoreOn(db as PostgresDatabase, false);
  }
  const { openSqliteStoreOn } = await import("./sqlite/index.ts");
  return openSqliteStoreOn(db as SqliteDatabase, false);
}

/**
 * Opens the handle a location names (openDatabase: a postgres:// URL or a SQLite file) and
 * the login store on it; closing the store closes the handle. For scripts, benches and tests.
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  const db = await openDatabase(location, options);
  try {
    if (db.dialect === "postgres") {
      const { openPostgresStoreOn } = await import("./postgres/index.ts");
      return await openPostgresStoreOn(db as PostgresDatabase, true);
    }
    const { openSqliteStoreOn } = await import("./sqlite/index.ts");
    return await openSqliteStoreOn(db as SqliteDatabase, true);
  } catch (err) {
    await db.close();
    throw err;
  }
}
