import { setTimeout as sleep } from "node:timers/promises";
import path from "node:path";
import Database from "better-sqlite3";
import { ConfigError, StoreError } from "../../errors/index.ts";
import type { Logger } from "../../logging/logger.ts";
import { ensurePrivateDir, ensurePrivateFile } from "../../security/privateFiles.ts";
import { migrate } from "./migrations.ts";
import { SqliteStore } from "./SqliteStore.ts";
import { WorkerWrites } from "./writer/WorkerWrites.ts";

export { SqliteStore } from "./SqliteStore.ts";
export { MIGRATIONS, LATEST_VERSION, migrate, type Migration } from "./migrations.ts";
export { seedUsers, type SeedOptions, type SeedResult } from "./seed.ts";

export interface SqliteStoreOptions {
  /** Database file (created with its folder when missing), or ":memory:". */
  file: string;
  /** How long a writer waits for another connection's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /**
   * Where writes run: "inline" (default) on the caller's thread, or "worker" on a writer
   * thread with its own connection (writer/WorkerWrites.ts), for servers whose event loop
   * is the bottleneck. ":memory:" is always inline (a thread cannot share it).
   */
  writer?: SqliteWriter;
  /**
   * The database's folder is the app's own data folder (`<root>/.jit`): an existing one looser
   * than 0700 is tightened. A folder the user chose with --db is created 0700 when missing and
   * otherwise left alone.
   */
  ownFolder?: boolean;
  /** Told (warn, one line) when existing files or the folder had to be tightened. */
  logger?: Pick<Logger, "warn">;
}

export type SqliteWriter = "inline" | "worker";

/** JIT_SQLITE_WRITER ("inline" or "worker"), else `fallback`; anything else is refused by name. */
export function sqliteWriterFromEnv(env: Readonly<Record<string, string | undefined>>, fallback: SqliteWriter): SqliteWriter {
  const value = env.JIT_SQLITE_WRITER;
  if (value === undefined || value === "") return fallback;
  if (value === "inline" || value === "worker") return value;
  throw new ConfigError("CONFIG_INVALID", { source: "JIT_SQLITE_WRITER", reason: `must be "inline" or "worker", got "${value.slice(0, 40)}"` });
}

/**
 * Opens (creating when needed) a SQLite database and brings its schema up to date.
 *
 * - WAL: readers never block the writer, and a CLI process beside a server is normal.
 * - busy_timeout: a second process waits for the write lock instead of failing at once.
 * - foreign_keys=ON: SQLite leaves them off per connection unless asked.
 * - Owner only: the folder is 0700 and the file 0600 before SQLite opens it, so the -wal and
 *   -shm files SQLite creates (with the database file's mode) are 0600 too; looser existing
 *   files are tightened (privateFiles.ts). They hold openIds, code and token hashes, sealed keys.
 * - Durability: these tables hold identities (a user just registered, a binding, a spent
 *   single-use code); losing a "used" mark would let a code be replayed, so nothing is
 *   acknowledged before it is on disk. With synchronous=FULL SQLite fsyncs the WAL inside
 *   every COMMIT, on the event loop (better-sqlite3 is synchronous). Instead the connection
 *   runs with synchronous=NORMAL (the WAL is still synced before every checkpoint) and the
 *   group commit fsyncs the WAL on the thread pool after each COMMIT, settling the writes
 *   only then (groupCommit.ts). Migrations, which run before that machinery, use FULL.
 */
export async function openSqliteStore(options: SqliteStoreOptions): Promise<SqliteStore> {
  const memory = options.file === ":memory:";
  const file = memory ? options.file : path.resolve(options.file);
  let db: Database.Database | undefined;
  try {
    if (!memory) {
      const tightened = [
        ...(await ensurePrivateDir(path.dirname(file), { own: options.ownFolder ?? false })),
        ...(await ensurePrivateFile(file, [`${file}-wal`, `${file}-shm`, `${file}-journal`])),
      ];
      if (tightened.length > 0) options.logger?.warn({ files: tightened }, `made ${tightened.join(", ")} readable by their owner only (0700 folder, 0600 files)`);
    }
    db = new Database(file, { timeout: options.busyTimeoutMs ?? 5000 });
    const mode = await enableWal(db, options.busyTimeoutMs ?? 5000);
    if (!memory && mode !== "wal") throw new Error(`journal_mode is ${String(mode)}, WAL could not be enabled`);
    db.pragma("foreign_keys = ON");
    db.pragma("synchronous = FULL"); // until the migrations are done; see above
  } catch (err) {
    db?.close();
    throw new StoreError("STORE_OPEN_FAILED", { file, reason: reason(err) });
  }
  try {
    migrate(db, file);
    db.pragma("synchronous = NORMAL");
  } catch (err) {
    db.close();
    if (err instanceof StoreError) throw err;
    throw new StoreError("STORE_MIGRATION_FAILED", { file, version: "?", reason: reason(err) });
  }
  if (memory || (options.writer ?? "inline") === "inline") return new SqliteStore(db, file);
  try {
    return new SqliteStore(db, file, await WorkerWrites.start({ file, busyTimeoutMs: options.busyTimeoutMs ?? 5000 }));
  } catch (err) {
    db.close();
    throw err;
  }
}

/**
 * `PRAGMA journal_mode = WAL`, tried again while another connection holds the lock, up to
 * the busy timeout. Needed because SQLite answers SQLITE_BUSY at once here, without its busy
 * handler: two processes opening a fresh file together (`jit serve --workers 2`) both hold
 * a shared lock and both want the exclusive one, which SQLite treats as a deadlock and
 * refuses to one of them.
 */
async function enableWal(db: Database.Database, timeoutMs: number): Promise<unknown> {
  const deadline = Date.now() + timeoutMs;
  for (let wait = 5; ; wait = Math.min(wait * 2, 100)) {
    try {
      return db.pragma("journal_mode = WAL", { simple: true });
    } catch (err) {
      const code = (err as { code?: unknown }).code;
      if (typeof code !== "string" || !code.startsWith("SQLITE_BUSY") || Date.now() + wait > deadline) throw err;
    }
    await sleep(wait);
  }
}

function reason(err: unknown): string {
  return err instanceof Error ? err.message : String(err);
}
