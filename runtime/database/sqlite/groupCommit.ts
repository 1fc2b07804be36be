import { open, type FileHandle } from "node:fs/promises";
import type Database from "better-sqlite3";

/**
 * Group commit for one better-sqlite3 connection.
 *
 * Why: durable commits need an fsync, and better-sqlite3 is synchronous, so with
 * synchronous=FULL that fsync blocks the event loop. One commit per write caps a server
 * at a few hundred writes per second whatever the number of cores or clients.
 *
 * How: `run(work)` queues a synchronous unit of database work. Once per event-loop turn
 * (setImmediate, i.e. after the I/O callbacks of the turn have queued theirs) every queued
 * unit runs, in call order, inside ONE `BEGIN IMMEDIATE … COMMIT`, each unit in its own
 * SAVEPOINT (a nested better-sqlite3 transaction). The connection runs with
 * synchronous=NORMAL, so the COMMIT writes the WAL frames without an fsync; the WAL file is
 * then fsynced on the thread pool (FileHandle.datasync) while the event loop goes on. Then,
 * and only then, the promises settle. Batches that commit while a sync runs share the next
 * one. This is what FULL gives for every acknowledged write (its frames are on disk), with
 * the wait moved off the event loop.
 *
 * The concurrency contract (what callers may rely on):
 * - Durability: a promise resolves only after the COMMIT that holds its unit returned AND a
 *   WAL fsync started after that commit finished. Nothing is acknowledged that a crash or
 *   power loss could lose. (Another connection may read a committed row before that fsync
 *   ends; nothing derived from it is acknowledged before the fsync either, since every
 *   write that follows from it goes through a later sync.) If the fsync fails, every
 *   promise of the batch rejects.
 * - Isolation per unit: a unit that throws rolls back to its savepoint and rejects its own
 *   promise with its own error; the other units of the batch commit as if it had not run.
 *   A unit of one statement skips the savepoint: SQLite already undoes a failed statement
 *   alone (statement journal) and the transaction goes on.
 * - If the batch itself cannot begin or commit (SQLITE_BUSY after busy_timeout, disk full,
 *   a closed connection) every promise of the batch rejects with that error and nothing of
 *   the batch is written.
 * - Order: units run in the order `run` was called, so a write queued before another (even
 *   without awaiting it) is visible to the later one (save then consume of one code works).
 * - Reads outside the queue see committed data only: a read sees a write once the write's
 *   promise has resolved, exactly as with one commit per write.
 * - Units must be synchronous (no await inside: better-sqlite3 would commit at the await)
 *   and must not call `run` themselves.
 * - Units are all-or-nothing per unit, and a unit's result (e.g. a consumed code) is handed
 *   out only once it is durable.
 * - The one exception is a unit run with `ackOnCommit` whose result it accepts: that result
 *   goes out as soon as its batch has committed, before the fsync. It is for writes whose
 *   loss in a power cut harms nothing and that nothing acknowledged rests on until a later,
 *   durable commit (a claim taken before a network call, a rate-limit count): every write
 *   that follows from it is acknowledged only after a later sync, which covers it too (the
 *   WAL is appended in order). If that fsync then fails, the unit has already answered.
 */

interface Job {
  work: () => unknown;
  single: boolean;
  ackOnCommit: ((value: unknown) => boolean) | undefined;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  ok: boolean;
  value: unknown;
}

/** How often the WAL handle is checked against an unlinked file (see #syncWal). */
const WAL_CHECK_INTERVAL_MS = 1_000;

export interface GroupCommitOptions {
  /** The database's WAL file (`<file>-wal`); null for ":memory:", which has nothing to sync. */
  walFile: string | null;
  /** Replaces the WAL fsync (tests). */
  syncWal?: () => Promise<void>;
}

export class GroupCommit {
  readonly #db: Database.Database;
  readonly #walFile: string | null;
  readonly #syncOverride: (() => Promise<void>) | undefined;
  #wal: FileHandle | null = null;
  #walCheckedAt = 0;
  /** The WAL fsync in progress, and the one queued behind it (shared by batches committed meanwhile). */
  #syncing: Promise<void> | null = null;
  #nextSync: Promise<void> | null = null;
  /** Batches committed but not yet settled (close waits for them). */
  #settling = new Set<Promise<void>>();
  /** SAVEPOINT … RELEASE around one unit (better-sqlite3 nests transactions as savepoints). */
  readonly #unit: Database.Transaction<(work: () => unknown) => unknown>;
  readonly #batch: Database.Transaction<(jobs: Job[]) => void>;
  #queue: Job[] = [];
  #timer: NodeJS.Immediate | null = null;
  /** Set while the handle runs a transaction of its own on this connection: batches wait for it. */
  #held = false;

  constructor(db: Database.Database, options: GroupCommitOptions) {
    this.#db = db;
    this.#walFile = options.walFile;
    this.#syncOverride = options.syncWal;
    this.#unit = db.transaction((work: () => unknown) => work());
    this.#batch = db.transaction((jobs: Job[]) => {
      for (const job of jobs) {
        try {
          job.value = job.single ? job.work() : this.#unit(job.work);
          job.ok = true;
        } catch (err) {
          job.ok = false;
          job.value = err;
          // Some errors (SQLITE_FULL, SQLITE_IOERR…) make SQLite roll the whole transaction
          // back: the units before this one are gone too, so the batch fails as a whole.
          if (!db.inTransaction) throw err;
        }
      }
    });
  }

  /**
   * Queues `work`; settles after the commit that holds it (see the contract above).
   * `singleStatement`: the unit runs exactly one statement, so it needs no savepoint.
   * `ackOnCommit`: a result it accepts goes out at commit, before the fsync (see the contract).
   */
  run<T>(work: () => T, singleStatement = false, ackOnCommit?: (value: T) => boolean): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({
        work,
        single: singleStatement,
        ackOnCommit: ackOnCommit as ((value: unknown) => boolean) | undefined,
        resolve: resolve as (value: unknown) => void,
        reject,
        ok: false,
        value: undefined,
      });
      this.#timer ??= setImmediate(() => this.flush());
    });
  }

  /**
   * Keeps batches off the connection until the returned release is called: the handle's own
   * transaction (runtime/database/sqlite/SqliteDatabase.ts) holds the connection across
   * awaits, and a batch begun inside it would fail or join it. What is queued meanwhile
   * commits right after.
   */
  hold(): () => void {
    this.flush();
    this.#held = true;
    return () => {
      this.#held = false;
      if (this.#queue.length > 0) this.#timer ??= setImmediate(() => this.flush());
    };
  }

  /** Runs and commits every queued unit now (also used before close and bulk seeding). */
  flush(): void {
    if (this.#timer) {
      clearImmediate(this.#timer);
      this.#timer = null;
    }
    if (this.#held) return;
    const jobs = this.#queue;
    if (jobs.length === 0) return;
    this.#queue = [];
    try {
      if (!this.#db.open) throw new TypeError("The database connection is not open");
      this.#batch.immediate(jobs);
    } catch (err) {
      for (const job of jobs) job.reject(err);
      return;
    }
    const waiting: Job[] = [];
    for (const job of jobs) {
      if (job.ok && job.ackOnCommit?.(job.value)) job.resolve(job.value);
      else waiting.push(job);
    }
    // Nothing waits for this batch's fsync: the next durable batch's sync covers its frames.
    if (waiting.length === 0) return;
    const settled = this.#durable().then(
      () => {
        for (const job of waiting) (job.ok ? job.resolve : job.reject)(job.value);
      },
      (err: unknown) => {
        for (const job of waiting) job.reject(err);
      },
    );
    this.#settling.add(settled);
    void settled.finally(() => this.#settling.delete(settled));
  }

  /** Commits what is queued and waits until every committed batch has settled; closes the WAL handle. */
  async drain(): Promise<void> {
    this.#held = false;
    this.flush();
    while (this.#settling.size > 0) await Promise.all([...this.#settling]);
    await this.#wal?.close();
    this.#wal = null;
  }

  /**
   * Resolves after an fsync of the WAL that started after the caller's commit. A sync that
   * is already running may have started before that commit, so the caller waits for the
   * next one, which every batch committed in the meantime shares.
   */
  #durable(): Promise<void> {
    if (this.#walFile === null && !this.#syncOverride) return Promise.resolve();
    if (this.#nextSync) return this.#nextSync;
    const start = (): Promise<void> => {
      this.#nextSync = null;
      const sync = this.#syncWal();
      this.#syncing = sync;
      void sync.then(
        () => this.#clear(sync),
        () => this.#clear(sync),
      );
      return sync;
    };
    if (!this.#syncing) return start();
    this.#nextSync = this.#syncing.then(start, start);
    return this.#nextSync;
  }

  #clear(sync: Promise<void>): void {
    if (this.#syncing === sync) this.#syncing = null;
  }

  async #syncWal(): Promise<void> {
    if (this.#syncOverride) return this.#syncOverride();
    // The WAL file lives as long as a connection holds the database open (ours does), and
    // SQLite rewrites it in place after a checkpoint, so one handle serves; reopen if it
    // was ever unlinked. Looked at once a second, not per sync: the stat cost more than
    // the fdatasync itself under load (CPU profile of bench/login.ts).
    const now = Date.now();
    if (this.#wal && now - this.#walCheckedAt >= WAL_CHECK_INTERVAL_MS) {
      this.#walCheckedAt = now;
      if ((await this.#wal.stat()).nlink === 0) {
        await this.#wal.close();
        this.#wal = null;
      }
    }
    this.#wal ??= await open(this.#walFile!, "r");
    await this.#wal.datasync();
  }

  /** Units waiting for the next commit (tests, diagnostics). */
  get pending(): number {
    return this.#queue.length;
  }
}
