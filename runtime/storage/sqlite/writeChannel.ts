import type Database from "better-sqlite3";
import { inCrashUnit } from "./crashPoints.ts";
import { GroupCommit } from "./groupCommit.ts";
import { ACK_ON_COMMIT, SINGLE_STATEMENT, type SqliteWrites, type WriteOp } from "./writes.ts";

export type WriteArgs<K extends WriteOp> = Parameters<SqliteWrites[K]>;
export type WriteResult<K extends WriteOp> = ReturnType<SqliteWrites[K]>;

/**
 * Where a SqliteStore's write units run. Both channels keep groupCommit.ts's contract
 * (durable before settled unless writes.ts's ACK_ON_COMMIT says otherwise, one unit
 * all-or-nothing, call order, reads see a write once it settled); they differ only in which
 * thread pays for the statements, the commit and the checkpoints.
 */
export interface WriteChannel {
  run<K extends WriteOp>(op: K, ...args: WriteArgs<K>): Promise<WriteResult<K>>;
  /** Starts committing what is queued now, without waiting (before bulk work on the store's connection). */
  flush(): void;
  /** Resolves when the connection that writes answers a read; no transaction, no lock. */
  ping(): Promise<void>;
  /** Commits what is queued, waits until every write has settled, and releases the channel. */
  close(): Promise<void>;
}

/** Units run on the store's own connection, in the caller's thread. */
export class InlineWrites implements WriteChannel {
  readonly #writes: SqliteWrites;
  readonly #commits: GroupCommit;

  constructor(db: Database.Database, writes: SqliteWrites, walFile: string | null) {
    this.#writes = writes;
    this.#commits = new GroupCommit(db, { walFile });
  }

  run<K extends WriteOp>(op: K, ...args: WriteArgs<K>): Promise<WriteResult<K>> {
    const unit = this.#writes[op] as (...a: WriteArgs<K>) => WriteResult<K>;
    return this.#commits.run(
      inCrashUnit(op, () => unit.apply(this.#writes, args)),
      SINGLE_STATEMENT.has(op),
      ACK_ON_COMMIT[op] as ((value: WriteResult<K>) => boolean) | undefined,
    );
  }

  flush(): void {
    this.#commits.flush();
  }

  async ping(): Promise<void> {
    this.#writes.ping();
  }

  close(): Promise<void> {
    return this.#commits.drain();
  }
}
