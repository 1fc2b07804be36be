import { StoreError } from "../errors/index.ts";
import type { Logger } from "../logging/logger.ts";
import { hasScheme } from "./location.ts";
import { isPostgresUrl, parsePostgresUrl } from "./postgres/config.ts";
import type { SqliteWriter } from "./sqlite/index.ts";
import type { Store } from "./Store.ts";

export interface OpenStoreOptions {
  /** SQLite only: where writes run (see openSqliteStore). */
  sqliteWriter?: SqliteWriter;
  /** SQLite only: the file's folder belongs to the app, so it is made owner-only (see openSqliteStore). */
  ownFolder?: boolean;
  /** SQLite only: told when existing files had to be made owner-only. */
  logger?: Pick<Logger, "warn">;
  /** Database servers only: a pooled connection broke while idle (see openPostgresStore). */
  onIdleError?: (info: { database: string; reason: string }) => void;
}

/**
 * Opens the store a location names (resolveDatabase's answer): `postgres://` or
 * `postgresql://` → PostgreSQL, a file path or ":memory:" → SQLite (its folder is created).
 * The choice is made here only: App, loadApp and the CLI pass the location through.
 * Each store's module is loaded only when used. Any other scheme is STORE_OPEN_FAILED.
 */
export async function openStore(location: string, options: OpenStoreOptions = {}): Promise<Store> {
  if (hasScheme(location)) {
    if (!isPostgresUrl(location)) {
      throw new StoreError("STORE_OPEN_FAILED", { file: databaseLabel(location), reason: "unsupported scheme (use postgres://, a file path or file:)" });
    }
    const { openPostgresStore } = await import("./postgres/index.ts");
    return openPostgresStore({ url: location, ...(options.onIdleError ? { onIdleError: options.onIdleError } : {}) });
  }
  const { openSqliteStore } = await import("./sqlite/index.ts");
  return openSqliteStore({
    file: location,
    ...(options.sqliteWriter ? { writer: options.sqliteWriter } : {}),
    ...(options.ownFolder !== undefined ? { ownFolder: options.ownFolder } : {}),
    ...(options.logger ? { logger: options.logger } : {}),
  });
}

/** What messages call the database: the file, or `host:port/database` (never a URL, which may carry a password). */
export function databaseLabel(location: string): string {
  if (!hasScheme(location)) return location;
  if (!isPostgresUrl(location)) return `a ${location.slice(0, location.indexOf(":")).slice(0, 20)}:// URL`;
  try {
    return parsePostgresUrl(location).label;
  } catch {
    return "a postgres:// URL";
  }
}
