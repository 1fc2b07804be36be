import { setTimeout as sleep } from "node:timers/promises";
import path from "node:path";
import Database from "better-sqlite3";
import { ConfigError, StoreError } from "../../errors/index.ts";
import type { Logger } from "../../logging/logger.ts";
import { ensurePrivateDir, ensurePrivateFile } from "../../security/privateFiles.ts";
import { SqliteDatabase } from "./SqliteDatabase.ts";
import { WorkerWrites } from "./writer/WorkerWrites.ts";

export interface SqliteOpenOptions {
  /** Database file (created with its folder when missing), or ":memory:". */
  file: string;
  /** How long a writer waits for another connection's lock (default 5000 ms). */
  busyTimeoutMs?: number;
  /**
   * Where write units run: "inline" (default) on the caller's thread, or "worker" on a writer
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
 * Opens (creating when needed) a SQLite database as a handle. Families then migrate their
 * own schema on it (SqliteDatabase.migrate).
 *
 * - WAL: readers never block the writer, and a CLI process beside a server is normal.
 * - busy_timeout: a second process waits for the write lock instead of failing at once.
 * - foreign_keys=ON: SQLite leaves them off per connection unless asked.
 * - Owner only: the folder is 0700 and the file 0600 before SQLite opens it, so the -wal and
 *   -shm files SQLite creates (with the database file's mode) are 0600 too; looser existing
 *   files are tightened (privateFiles.ts).
 * - Durability: nothing is acknowledged before it is on disk. With synchronous=FULL SQLite
 *   fsyncs the WAL inside every COMMIT, on the event loop (better-sqlite3 is synchronous).
 *   Instead the connection runs with synchronous=NORMAL (the WAL is still synced before
 *   every checkpoint) and the group commit, or the handle's transaction, fsyncs the WAL on
 *   the thread pool after each COMMIT, settling the writes only then (groupCommit.ts).
 */
export async function openSqliteDatabase(options: SqliteOpenOptions): Promise<SqliteDatabase> {
  const memory = options.file === ":memory:";
  const file = memory ? options.file : path.resolve(options.file);
  const busyTimeoutMs = options.busyTimeoutMs ?? 5000;
  let db: Database.Database | undefined;
  try {
    if (!memory) {
      const tightened = [
        ...(await ensurePrivateDir(path.dirname(file), { own: options.ownFolder ?? false })),
        ...(await ensurePrivateFile(file, [`${file}-wal`, `${file}-shm`, `${file}-journal`])),
      ];
      if (tightened.length > 0) options.logger?.warn({ files: tightened }, `made ${tightened.join(", ")} readable by their owner only (0700 folder, 0600 files)`);
    }
    db = new Database(file, { timeout: busyTimeoutMs });
    const mode = await enableWal(db, busyTimeoutMs);
    if (!memory && mode !== "wal") throw new Error(`journal_mode is ${String(mode)}, WAL could not be enabled`);
    db.pragma("foreign_keys = ON");
    db.pragma("synchronous = NORMAL"); // the fsync is the handle's; see above
  } catch (err) {
    db?.close();
    throw new StoreError("STORE_OPEN_FAILED", { file, reason: reason(err) });
  }
  if (memory || (options.writer ?? "inline") === "inline") return new SqliteDatabase(db, file);
  try {
    return new SqliteDatabase(db, file, await WorkerWrites.start({ file, busyTimeoutMs }));
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
