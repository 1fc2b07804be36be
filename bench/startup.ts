/**
 * Start-up benchmark: `jit --app demo elements` with the compiled CLI (dist/, as installed
 * from the package), against `node -e 0` and a bare script that reads the same e.json files
 * by hand (bench/lib/startupBaseline.mjs), and against the CLI run from its TypeScript
 * sources through tsx (cli/bin.js, how this repository ran it before it was compiled).
 * Rounds alternate between the commands so machine noise hits all alike.
 * Run: node cli/run-ts.js bench/startup.ts (builds dist/ first; BENCH_NO_BUILD=1 skips that)
 */
import { execFileSync, spawnSync } from "node:child_process";
import { existsSync, mkdirSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./lib/median.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const ROUNDS = Number(process.env.BENCH_RUNS ?? 9);
const TARGET_MS = 350;
const TIME = "/usr/bin/time"; // CPU time of a child (user + sys), when the machine has it

if (!process.env.BENCH_NO_BUILD || !existsSync(path.join(REPO, "dist", "cli", "jit.js"))) {
  execFileSync(process.execPath, [path.join(REPO, "scripts", "build.js")], { cwd: REPO, stdio: "inherit" });
}

const commands: Array<{ name: string; args: string[] }> = [
  { name: "node -e 0", args: ["-e", "0"] },
  { name: "bare script (same e.json files)", args: [path.join(REPO, "bench/lib/startupBaseline.mjs"), "apps/demo", "dist/elements"] },
  { name: "jit (compiled, dist/cli/jit.js)", args: [path.join(REPO, "dist/cli/jit.js"), "--app", "demo", "elements"] },
  { name: "jit from sources via tsx (cli/bin.js)", args: [path.join(REPO, "cli/bin.js"), "--app", "demo", "elements"] },
];

const hasTime = existsSync(TIME);

function once(args: string[]): { wallMs: number; cpuMs: number | undefined } {
  const start = process.hrtime.bigint();
  const run = hasTime
    ? spawnSync(TIME, ["-f", "%U %S", process.execPath, ...args], { cwd: REPO, encoding: "utf8", env: { ...process.env, JIT_LOG_LEVEL: "silent" } })
    : spawnSync(process.execPath, args, { cwd: REPO, encoding: "utf8", env: { ...process.env, JIT_LOG_LEVEL: "silent" } });
  const wallMs = Number(process.hrtime.bigint() - start) / 1e6;
  if (run.status !== 0) throw new Error(`${args.join(" ")} failed: ${run.stderr}`);
  const times = hasTime ? run.stderr.trim().split("\n").pop()!.split(" ").map(Number) : undefined;
  return { wallMs, cpuMs: times ? (times[0]! + times[1]!) * 1000 : undefined };
}

for (const c of commands) once(c.args); // warm-up: page cache, compile caches
const samples = commands.map(() => ({ wall: [] as number[], cpu: [] as number[] }));
for (let round = 0; round < ROUNDS; round++) {
  commands.forEach((c, i) => {
    const { wallMs, cpuMs } = once(c.args);
    samples[i]!.wall.push(wallMs);
    if (cpuMs !== undefined) samples[i]!.cpu.push(cpuMs);
  });
}

const results = commands.map((c, i) => ({
  name: c.name,
  wallMs: median(samples[i]!.wall),
  cpuMs: samples[i]!.cpu.length ? median(samples[i]!.cpu) : null,
}));
const nodeOnly = results[0]!.wallMs;
const bare = results[1]!.wallMs;
const fmt = (n: number | null) => (n === null ? "-" : n.toFixed(0));
const rows = [["command", "wall ms", "cpu ms", "× node -e 0", "× bare script"]];
for (const r of results) rows.push([r.name, fmt(r.wallMs), fmt(r.cpuMs), (r.wallMs / nodeOnly).toFixed(2), (r.wallMs / bare).toFixed(2)]);
const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
console.log(`start-up benchmark: jit --app demo elements (median of ${ROUNDS} rounds, node ${process.version}, ${os.cpus().length} cpu, load ${os.loadavg()[0]!.toFixed(1)})`);
for (const r of rows) console.log(r.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  "));
const compiled = results[2]!.wallMs;
console.log(`compiled jit: ${fmt(compiled)} ms (target <= ${TARGET_MS} ms) ${compiled <= TARGET_MS ? "ok" : "ABOVE TARGET"}`);

mkdirSync(path.join(REPO, "bench", "results"), { recursive: true });
writeFileSync(path.join(REPO, "bench", "results", "startup.json"), `${JSON.stringify({ date: new Date().toISOString(), node: process.version, rounds: ROUNDS, loadavg: os.loadavg(), results }, null, 2)}\n`);
