import { mkdirSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { SCALE, SEED } from "./scale.ts";

/** One line of the figures table: what was tried and what held. */
export interface Figure {
  part: string;
  tried: string;
  held: string;
  ok: boolean;
}

export const RESULTS_DIR = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");

/**
 * Writes a part's figures to results/<part>.json (table.mjs prints them all) and to stdout,
 * so the figures docs/reliability.md quotes are the ones the suite measured.
 */
export function recordFigures(part: string, figures: Figure[]): void {
  mkdirSync(RESULTS_DIR, { recursive: true });
  const file = path.join(RESULTS_DIR, `${part}.json`);
  writeFileSync(file, JSON.stringify({ part, scale: SCALE, seed: SEED, measuredAt: new Date().toISOString(), figures }, null, 2));
  for (const f of figures) console.log(`[reliability] ${f.ok ? "✔" : "✘"} ${f.part}: tried ${f.tried}; held: ${f.held}`);
}
