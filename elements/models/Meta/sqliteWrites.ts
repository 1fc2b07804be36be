import type { SqlValue, UnitContext } from "jit-runtime/element";

/**
 * The models family's write units on SQLite (runtime/database/types.ts, WriteUnitModule):
 * a model's write outside a transaction runs here, in the handle's group commit (inline or on
 * its writer thread), so the writes of one event-loop turn share one commit and one fsync.
 * Each is one statement; arguments and results are plain data (they may cross a thread).
 */
export function createUnits(ctx: UnitContext) {
  return {
    /** A write with RETURNING: the row it wrote, or undefined when it matched none. */
    writeReturning: (sql: string, params: SqlValue[]) => ctx.prepare(sql).get(...params),
    write: (sql: string, params: SqlValue[]) => ({ changes: ctx.prepare(sql).run(...params).changes }),
  };
}

export const singleStatement = ["writeReturning", "write"] as const;
