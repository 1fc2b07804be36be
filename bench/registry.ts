/**
 * Registry benchmark: loadApp (walk + parse + validate + resolve) of generated apps of
 * 1,000 and 10,000 elements against a baseline that only walks, reads and JSON.parses the
 * same files, then the warm getElement rate. Run: node cli/run-ts.js bench/registry.ts
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadApp } from "../runtime/index.ts";
import { silentLogger } from "../runtime/logging/logger.ts";
import { baselineLoad } from "./lib/baseline.ts";
import { generateApp } from "./lib/generate.ts";
import { median } from "./lib/median.ts";

// Small loads are short and noisy: measure them more often.
const runsFor = (size: number) => Number(process.env.BENCH_RUNS ?? (size < 5_000 ? 15 : 7));
const SIZES = [1_000, 10_000];
const TARGET_RATIO = 1.5;
const TARGET_RATE = 5_000_000;


async function time(fn: () => Promise<unknown>): Promise<number> {
  const start = process.hrtime.bigint();
  await fn();
  return Number(process.hrtime.bigint() - start) / 1e6;
}

async function measureLoad(root: string, runs: number) {
  const load = () => loadApp({ root, appId: "bench", logger: silentLogger, env: {} });
  // Warm-up: page cache, JIT, module cache for the few Type modules.
  baselineLoad(root);
  const cold = await time(load); // first load in this process: compiles schemas, imports Type code
  const base: number[] = [];
  const ours: number[] = [];
  for (let i = 0; i < runs; i++) {
    // Alternate so machine noise hits both sides alike.
    base.push(await time(async () => baselineLoad(root)));
    ours.push(await time(load));
  }
  return { base: median(base), ours: median(ours), cold, app: await load() };
}

function measureGetElement(app: Awaited<ReturnType<typeof loadApp>>): number {
  const names = app.findElements({ type: "bench.Meta" }).slice(0, 1024).map((d) => d.fullName);
  for (const n of names) app.getElement(n); // instantiate: the rate below is the warm path
  const mask = names.length - 1;
  let sink = 0;
  const rates: number[] = [];
  for (let round = 0; round < 5; round++) {
    const calls = 20_000_000;
    const start = process.hrtime.bigint();
    for (let i = 0; i < calls; i++) if (app.getElement(names[i & mask]!) !== undefined) sink++;
    const ns = Number(process.hrtime.bigint() - start);
    rates.push(calls / (ns / 1e9));
  }
  if (sink === 0) throw new Error("unreachable");
  return median(rates);
}

const fmt = (n: number) => n.toLocaleString("en-US", { maximumFractionDigits: 1 });
const rows: string[][] = [["elements", "baseline ms", "loadApp ms", "ratio", "target", "ok", "first loadApp ms"]];
let rate = 0;
const tmp = await mkdtemp(path.join(os.tmpdir(), "jit-bench-"));
try {
  for (const size of SIZES) {
    const root = path.join(tmp, String(size));
    await generateApp(root, size);
    const { base, ours, cold, app } = await measureLoad(root, runsFor(size));
    const ratio = ours / base;
    rows.push([fmt(size), fmt(base), fmt(ours), ratio.toFixed(2) + "x", `<= ${TARGET_RATIO}x`, size === 10_000 ? (ratio <= TARGET_RATIO ? "yes" : "NO") : "-", fmt(cold)]);
    if (size === SIZES[SIZES.length - 1]) rate = measureGetElement(app);
    await app.close();
  }
} finally {
  await rm(tmp, { recursive: true, force: true });
}
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(`registry benchmark (median of ${SIZES.map(runsFor).join("/")} runs, node ${process.version}, ${os.cpus().length} cpu)`);
for (const r of rows) console.log(r.map((c, i) => c.padStart(widths[i]!)).join("  "));
console.log("first loadApp = the first load in the process (schema compile + Type code import); later loads reuse both.");
console.log(`warm getElement: ${fmt(rate / 1e6)} M calls/s (target >= ${TARGET_RATE / 1e6} M/s) ${rate >= TARGET_RATE ? "ok" : "BELOW TARGET"}`);
