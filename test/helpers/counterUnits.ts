import type { UnitContext } from "../../runtime/database/types.ts";

/**
 * A family's write units as a test declares them (runtime/database/types.ts WriteUnitModule):
 * counters in a table of the test's own, incremented inside the handle's group commit.
 */
export function createUnits(ctx: UnitContext) {
  const bump = ctx.prepare("INSERT INTO counters (name, n) VALUES (?, 1) ON CONFLICT (name) DO UPDATE SET n = n + 1 RETURNING n");
  const insert = ctx.prepare("INSERT INTO counters (name, n) VALUES (?, ?)");
  return {
    bump: (name: string) => (bump.get(name) as { n: number }).n,
    /** Two statements: the second fails on a taken name, and the savepoint undoes the first. */
    pair: (a: string, b: string) => {
      insert.run(a, 0);
      try {
        insert.run(b, 0);
      } catch (err) {
        const violation = ctx.constraintOf(err);
        throw new Error(`violated ${violation?.kind} ${violation?.constraint}`);
      }
      return true;
    },
  };
}

export const singleStatement = ["bump"];
