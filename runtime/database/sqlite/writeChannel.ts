import type Database from "better-sqlite3";
import { StoreError } from "../../errors/index.ts";
import type { ConstraintViolation, SyncStatement, UnitContext, WriteUnitModule } from "../types.ts";
import { sqliteConstraint } from "./constraints.ts";
import { inCrashUnit, withCrashPoint } from "../crashPoints.ts";
import { GroupCommit } from "./groupCommit.ts";
import { registerWireErrors, type WireErrorClass } from "./writer/wire.ts";

/**
 * Where a SQLite handle's write units run. Both channels keep groupCommit.ts's contract
 * (durable before settled unless the unit module's ackOnCommit says otherwise, one unit
 * all-or-nothing, call order, reads see a write once it settled); they differ only in which
 * thread pays for the statements, the commit and the checkpoints.
 */
export interface WriteChannel {
  /** Loads a family's write-unit module (by URL) on the writing connection; idempotent. */
  load(module: string): Promise<void>;
  run(module: string, op: string, args: unknown[]): Promise<unknown>;
  /** Starts committing what is queued now, without waiting (before bulk work on the handle's connection). */
  flush(): void;
  /** Resolves when the connection that writes answers a read; no transaction, no lock. */
  ping(): Promise<void>;
  /** Commits what is queued, waits until every write has settled, and releases the channel. */
  close(): Promise<void>;
}

/** The handle's connection as a write-unit module sees it: statements prepared once and kept. */
export function unitContext(db: Database.Database): UnitContext {
  const statements = new Map<string, SyncStatement>();
  const names = new Map<string, string | null>();
  return {
    prepare(sql: string): SyncStatement {
      let statement = statements.get(sql);
      if (!statement) statements.set(sql, (statement = withCrashPoint(db.prepare(sql) as unknown as SyncStatement)));
      return statement;
    },
    nested: <A extends unknown[], T>(work: (...args: A) => T) => db.transaction(work) as unknown as (...args: A) => T,
    constraintOf: (err: unknown): ConstraintViolation | null => sqliteConstraint(db, err, names),
  };
}

interface LoadedUnits {
  units: Record<string, (...args: unknown[]) => unknown>;
  single: ReadonlySet<string>;
  ack: Readonly<Record<string, (value: unknown) => boolean>>;
}

/** Imports a write-unit module and builds its units on `ctx`. */
export async function loadUnits(module: string, ctx: UnitContext): Promise<LoadedUnits> {
  const loaded = (await import(module)) as Partial<WriteUnitModule>;
  if (typeof loaded.createUnits !== "function") throw new TypeError(`write-unit module ${module} exports no createUnits(ctx)`);
  registerWireErrors(loaded.errorFamilies as Record<string, WireErrorClass> | undefined);
  return {
    units: loaded.createUnits(ctx) as LoadedUnits["units"],
    single: new Set(loaded.singleStatement ?? []),
    ack: loaded.ackOnCommit ?? {},
  };
}

/** Units run on the handle's own connection, in the caller's thread. */
export class InlineWrites implements WriteChannel {
  readonly #ctx: UnitContext;
  readonly #commits: GroupCommit;
  readonly #modules = new Map<string, Promise<LoadedUnits>>();
  readonly #ready = new Map<string, LoadedUnits>();
  readonly #ping: SyncStatement;

  constructor(db: Database.Database, walFile: string | null, ctx: UnitContext = unitContext(db)) {
    this.#ctx = ctx;
    this.#commits = new GroupCommit(db, { walFile });
    // Reads page 1 of the file (a bare SELECT 1 never touches it).
    this.#ping = ctx.prepare("SELECT count(*) AS n FROM sqlite_schema WHERE name = ''");
  }

  get commits(): GroupCommit {
    return this.#commits;
  }

  async load(module: string): Promise<void> {
    let loading = this.#modules.get(module);
    if (!loading) {
      loading = loadUnits(module, this.#ctx);
      this.#modules.set(module, loading);
      loading.then((units) => this.#ready.set(module, units), () => this.#modules.delete(module));
    }
    this.#ready.set(module, await loading);
  }

  run(module: string, op: string, args: unknown[]): Promise<unknown> {
    const loaded = this.#ready.get(module);
    const unit = loaded?.units[op];
    if (!loaded || typeof unit !== "function") {
      return Promise.reject(new StoreError("STORE_WRITER_FAILED", { file: "?", reason: `no write unit ${op} loaded from ${module}` }));
    }
    return this.#commits.run(inCrashUnit(op, () => unit(...args)), loaded.single.has(op), loaded.ack[op]);
  }

  flush(): void {
    this.#commits.flush();
  }

  async ping(): Promise<void> {
    this.#ping.get();
  }

  close(): Promise<void> {
    return this.#commits.drain();
  }
}
