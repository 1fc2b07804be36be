import { openDatabase, type SqliteDatabase, type SqliteOpenOptions } from "jit-runtime/element";
import { adoptSqlite, MIGRATIONS } from "../migrations/sqlite.ts";
import { SQLITE_WRITE_UNITS, SqliteStore } from "./SqliteStore.ts";

export { SqliteStore } from "./SqliteStore.ts";
export { MIGRATIONS, LATEST_VERSION } from "../migrations/sqlite.ts";
export { seedUsers, type SeedOptions, type SeedResult } from "./seed.ts";
export type { SqliteWriter } from "jit-runtime/element";

/** The owner of the login family's tables in the handle's migration ledger. */
export const AUTHS_OWNER = "auths";

export type SqliteStoreOptions = SqliteOpenOptions;

/** The login store on an open SQLite handle: the family's migrations, then its write units. */
export async function openSqliteStoreOn(db: SqliteDatabase, ownsDatabase: boolean): Promise<SqliteStore> {
  await db.migrate(AUTHS_OWNER, MIGRATIONS, { adopt: adoptSqlite });
  return new SqliteStore(db, await db.writeUnits(SQLITE_WRITE_UNITS), ownsDatabase);
}

/** Opens a SQLite handle on `options.file` and the login store on it; the store closes the handle. */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const { file, writer, ...rest } = options;
  // A path, not a URL: openDatabase would take "postgres://…" for a server.
  if (/^[a-z][a-z0-9+.-]*:\/\//i.test(file) && !/^file:/i.test(file)) throw new TypeError(`openSqliteStore takes a file, not a URL: ${file.slice(0, 12)}…`);
  const db = (await openDatabase(file, { ...rest, ...(writer ? { sqliteWriter: writer } : {}) })) as SqliteDatabase;
  try {
    return await openSqliteStoreOn(db, true);
  } catch (err) {
    await db.close();
    throw err;
  }
}
