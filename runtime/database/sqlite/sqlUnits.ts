import type { UnitContext } from "../types.ts";

/**
 * The handle's own write unit: a bare `run(sql, params)` outside a transaction, committed in
 * the group commit like a family's units (so it is durable when it resolves, and runs on the
 * writer thread when the handle has one).
 */
export function createUnits(ctx: UnitContext) {
  return {
    run: (sql: string, params: unknown[]) => ({ changes: ctx.prepare(sql).run(...(params as never[])).changes }),
  };
}

export const singleStatement = ["run"];
