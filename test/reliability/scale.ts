/**
 * How much of each part's full count a run tries. `npm run reliability` sets
 * JIT_RELIABILITY_SCALE=1 (the counts docs/reliability.md reports); `npm test` runs every part at the
 * default, a small fraction, so CI stays cheap but every part still runs.
 */
export const SCALE = (() => {
  const raw = process.env.JIT_RELIABILITY_SCALE;
  const value = raw === undefined || raw === "" ? 0.005 : Number(raw);
  if (!(value > 0 && value <= 1)) throw new Error(`JIT_RELIABILITY_SCALE must be in (0, 1], got ${raw}`);
  return value;
})();

/** `full` scaled, at least `min`. */
export function scaled(full: number, min = 1): number {
  return Math.max(min, Math.round(full * SCALE));
}

/** The fast-check seed: JIT_RELIABILITY_SEED replays a failure; fixed by default so runs compare. */
export const SEED = Number(process.env.JIT_RELIABILITY_SEED ?? 20261201);
