import { StoreError } from "../errors/index.ts";
import type { Logger } from "../logging/logger.ts";
import { hasScheme } from "./location.ts";
import { isPostgresUrl, parsePostgresUrl } from "./postgres/config.ts";
import type { SqliteWriter } from "./sqlite/open.ts";
import type { Database } from "./types.ts";

export interface OpenDatabaseOptions {
  /** SQLite only: where write units run (see openSqliteDatabase). */
  sqliteWriter?: SqliteWriter;
  /** SQLite only: the file's folder belongs to the app, so it is made owner-only. */
  ownFolder?: boolean;
  /** SQLite only: told when existing files had to be made owner-only. */
  logger?: Pick<Logger, "warn">;
  /** SQLite only: how long a writer waits for another connection's lock. */
  busyTimeoutMs?: number;
  /** Database servers only: a pooled connection broke while idle. */
  onIdleError?: (info: { database: string; reason: string }) => void;
}

/**
 * Opens the handle a location names (resolveDatabase's answer): `postgres://` or
 * `postgresql://` → PostgreSQL, a file path or ":memory:" → SQLite (its folder is created).
 * The choice is made here only. Each dialect's module is loaded only when used. Any other
 * scheme is STORE_OPEN_FAILED.
 */
export async function openDatabase(location: string, options: OpenDatabaseOptions = {}): Promise<Database> {
  if (hasScheme(location)) {
    if (!isPostgresUrl(location)) {
      throw new StoreError("STORE_OPEN_FAILED", { file: databaseLabel(location), reason: "unsupported scheme (use postgres://, a file path or file:)" });
    }
    const { openPostgresDatabase } = await import("./postgres/PostgresDatabase.ts");
    return openPostgresDatabase(parsePostgresUrl(location), options.onIdleError ? { onIdleError: options.onIdleError } : {});
  }
  const { openSqliteDatabase } = await import("./sqlite/open.ts");
  return openSqliteDatabase({
    file: location,
    ...(options.sqliteWriter ? { writer: options.sqliteWriter } : {}),
    ...(options.ownFolder !== undefined ? { ownFolder: options.ownFolder } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
    ...(options.busyTimeoutMs !== undefined ? { busyTimeoutMs: options.busyTimeoutMs } : {}),
  });
}

/** What messages call the database: the file, or `host:port/database` (never a URL, which may carry credentials). */
export function databaseLabel(location: string): string {
  if (!hasScheme(location)) return location;
  if (!isPostgresUrl(location)) return `a ${location.slice(0, location.indexOf(":")).slice(0, 20)}:// URL`;
  try {
    return parsePostgresUrl(location).label;
  } catch {
    return "a postgres:// URL";
  }
}
