import type { SyncStatement } from "./types.ts";

/**
 * Test-only crash points: the reliability suite kills the process (SIGKILL, as a power cut
 * or the OOM killer would) at a statement boundary of a write unit, or in the middle of a
 * migration, then checks what the database holds after a restart. Armed only when NODE_ENV
 * is "test" AND JIT_TEST_CRASH_AT is set, read once when this module loads, so an
 * environment variable alone never makes a user's server crash; unarmed, nothing is
 * wrapped and nothing is paid.
 *
 * JIT_TEST_CRASH_AT=<write unit>:<step>, the unit a name a family's write-unit module gives:
 * - step 1..n: just before the unit's n-th statement runs;
 * - "end": after the unit's last statement, before the COMMIT;
 * - "commit": just after the COMMIT that holds the unit, before anyone is answered.
 * JIT_TEST_CRASH_AT=migrate:<n>: after the n-th pending migration of an owner has run,
 * before its transaction commits (both dialects).
 */
export interface CrashPoint {
  unit: string;
  step: number | "end" | "commit";
}

export function crashPointFrom(env: Readonly<Record<string, string | undefined>>): CrashPoint | null {
  if (env.NODE_ENV !== "test" || !env.JIT_TEST_CRASH_AT) return null;
  const match = /^([A-Za-z]+):(\d+|end|commit)$/.exec(env.JIT_TEST_CRASH_AT.trim());
  if (!match) throw new Error(`JIT_TEST_CRASH_AT must be <write unit>:<step|end|commit>, got ${JSON.stringify(env.JIT_TEST_CRASH_AT)}`);
  const step = match[2]!;
  return { unit: match[1]!, step: /^\d+$/.test(step) ? Number(step) : (step as "end" | "commit") };
}

const point = crashPointFrom(process.env);
let inUnit = false;
let statementsRun = 0;

function die(): never {
  process.kill(process.pid, "SIGKILL");
  throw new Error("unreachable: killed");
}

/** The statement, counted inside the armed unit (unarmed: the same object, untouched). */
export function withCrashPoint<S extends SyncStatement>(statement: S): S {
  if (!point || point.unit === "migrate") return statement;
  for (const method of ["run", "get", "all"] as const) {
    const original = statement[method].bind(statement) as (...args: unknown[]) => unknown;
    (statement as unknown as Record<string, unknown>)[method] = (...args: unknown[]) => {
      if (inUnit && ++statementsRun === point.step) die();
      return original(...args);
    };
  }
  return statement;
}

/** `work`, the body of write unit `op`, with the armed crash point around it. */
export function inCrashUnit<T>(op: string, work: () => T): () => T {
  if (!point || op !== point.unit) return work;
  return () => {
    inUnit = true;
    statementsRun = 0;
    try {
      const result = work();
      if (point.step === "end") die();
      // The unit runs inside the batch's transaction; the COMMIT follows synchronously, and
      // the answer only after the WAL fsync, so the next tick falls between the two.
      if (point.step === "commit") process.nextTick(die);
      return result;
    } finally {
      inUnit = false;
    }
  };
}

/** Called by the migration runner after the n-th pending migration (1-based) ran, before COMMIT. */
export function migrationCrashPoint(applied: number): void {
  if (point?.unit === "migrate" && point.step === applied) die();
}
