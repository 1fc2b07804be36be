import type Database from "better-sqlite3";

/**
 * Group commit for one better-sqlite3 connection.
 *
 * Why: the store runs with synchronous=FULL, so every commit is an fsync, and better-sqlite3
 * is synchronous, so that fsync blocks the event loop. One commit per write caps a server
 * at a few hundred writes per second whatever the number of cores or clients.
 *
 * How: `run(work)` queues a synchronous unit of database work. Once per event-loop turn
 * (setImmediate, i.e. after the I/O callbacks of the turn have queued theirs) every queued
 * unit runs, in call order, inside ONE `BEGIN IMMEDIATE … COMMIT`, each unit in its own
 * SAVEPOINT (a nested better-sqlite3 transaction). Then, and only then, the promises settle.
 *
 * The concurrency contract (what callers may rely on):
 * - Durability is unchanged: a promise resolves only after the COMMIT that holds its unit
 *   returned, i.e. after the fsync. Nothing is acknowledged that a crash could lose.
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
 */

interface Job {
  work: () => unknown;
  single: boolean;
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
  ok: boolean;
  value: unknown;
}

export class GroupCommit {
  readonly #db: Database.Database;
  /** SAVEPOINT … RELEASE around one unit (better-sqlite3 nests transactions as savepoints). */
  readonly #unit: Database.Transaction<(work: () => unknown) => unknown>;
  readonly #batch: Database.Transaction<(jobs: Job[]) => void>;
  #queue: Job[] = [];
  #timer: NodeJS.Immediate | null = null;

  constructor(db: Database.Database) {
    this.#db = db;
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
   */
  run<T>(work: () => T, singleStatement = false): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      this.#queue.push({ work, single: singleStatement, resolve: resolve as (value: unknown) => void, reject, ok: false, value: undefined });
      this.#timer ??= setImmediate(() => this.flush());
    });
  }

  /** Runs and commits every queued unit now (also used before close and bulk seeding). */
  flush(): void {
    if (this.#timer) {
      clearImmediate(this.#timer);
      this.#timer = null;
    }
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
    for (const job of jobs) (job.ok ? job.resolve : job.reject)(job.value);
  }

  /** Units waiting for the next commit (tests, diagnostics). */
  get pending(): number {
    return this.#queue.length;
  }
}
