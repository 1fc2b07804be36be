/**
 * Login throughput and latency: concurrent clients calling getLoginCode for registered users,
 * through `jit serve` and through four comparison servers, in the same run, each in its own
 * process on its own copy of the database, rounds interleaved so machine noise hits all alike:
 *
 * - hand-written: a bare node:http handler doing by hand the work getLoginCode does (the same
 *   undici call to jscode2session, the same reads, the same two writes durable before the answer,
 *   the same AES-GCM seal, a hashed random login code; bench/lib/handLogin.ts). The ratio to it
 *   is the runtime's overhead. Targets: throughput ≥ 0.8×, p99 ≤ 1.5×.
 * - Fastify + node-easywechat 3.x: the server a Node developer writes today, doing the same
 *   reads and writes after the SDK's codeToSession. Target: jit serve ≥ 1.1× its throughput.
 * - the same Fastify server with better-sqlite3's default for WAL (synchronous = NORMAL: no
 *   fsync before the answer, durable against a crash of the process but not of the machine):
 *   what a developer gets by default. jit serve stays durable against both; target ≥ 1.0×.
 * - read-only: the old baseline (the WeChat call and one lookup, no writes), kept for history.
 *
 * A second `jit serve` writes inline (JIT_SQLITE_WRITER=inline) to show what the writer thread
 * buys. The fake WeChat server answers on loopback from its own process.
 * Run: node cli/run-ts.js bench/login.ts
 *
 * Knobs: BENCH_USERS (registered users, default 10,000), BENCH_REQUESTS (per round and
 * target, default 6,000), BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 5),
 * BENCH_TARGETS (comma-separated keys of the servers to run, default all; a ratio is printed
 * only when both of its servers ran), BENCH_AB_ROOT (another checkout of this repository, with
 * its node_modules: adds its `jit serve` as target "jitServeAB", for before/after comparisons
 * of a change in the same run).
 * Diagnosis: BENCH_CPU_PROF=<dir> (V8 profile of jit serve), BENCH_NODE_FLAGS (node flags for it).
 */
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { envInt, printTable, runLoad, seedDatabase, startBaseline, startFake, startJitServe, writeResult, type LoadResult, type Proc } from "./lib/loginHarness.ts";
import { median } from "./lib/median.ts";

const USERS = envInt("BENCH_USERS", 10_000);
const REQUESTS = envInt("BENCH_REQUESTS", 6_000);
const CONNECTIONS = envInt("BENCH_CONNECTIONS", 32);
const ROUNDS = envInt("BENCH_ROUNDS", 5);
const WARMUP = Math.min(1_000, REQUESTS);
const PREFIX = "bench-user-";


function summarise(runs: LoadResult[]) {
  return {
    rps: median(runs.map((r) => r.rps)),
    p50: median(runs.map((r) => r.p50)),
    p99: median(runs.map((r) => r.p99)),
    cpuMs: median(runs.map((r) => r.cpuMsPerRequest)),
    mainThreadMs: median(runs.map((r) => r.mainThreadMsPerRequest)),
    failures: runs.reduce((n, r) => n + r.failures, 0),
    runs,
  };
}
type Summary = ReturnType<typeof summarise>;

interface Target {
  key: "readOnly" | "handWritten" | "easyWechat" | "easyWechatDefault" | "jitServe" | "jitServeInlineWrites" | "jitServeAB";
  label: string;
  expect: string;
  start: (dbFile: string, wechatBase: string) => Promise<Proc>;
}

const ALL_TARGETS: Target[] = [
  { key: "readOnly", label: "read-only (node:http + got + one lookup; history)", expect: '"userId"', start: (db, wx) => startBaseline(db, wx, "loginBaseline.ts") },
  { key: "handWritten", label: "hand-written (node:http, the same work by hand)", expect: '"loginCode"', start: (db, wx) => startBaseline(db, wx, "loginHandWork.ts") },
  { key: "easyWechat", label: "Fastify + node-easywechat 3.6.2", expect: '"loginCode"', start: (db, wx) => startBaseline(db, wx, "loginEasyWechat.ts") },
  {
    key: "easyWechatDefault",
    label: "Fastify + node-easywechat, default durability (synchronous = NORMAL)",
    expect: '"loginCode"',
    start: (db, wx) => startBaseline(db, wx, "loginEasyWechat.ts", { BENCH_SYNCHRONOUS: "NORMAL" }),
  },
  { key: "jitServe", label: "jit serve", expect: '"loginCode"', start: (db, wx) => startJitServe(db, wx) },
  {
    key: "jitServeInlineWrites",
    label: "jit serve, writes inline (JIT_SQLITE_WRITER=inline)",
    expect: '"loginCode"',
    start: (db, wx) => startJitServe(db, wx, { JIT_SQLITE_WRITER: "inline" }),
  },
  ...(process.env.BENCH_AB_ROOT
    ? [{ key: "jitServeAB" as const, label: `jit serve of ${process.env.BENCH_AB_ROOT}`, expect: '"loginCode"', start: (db: string, wx: string) => startJitServe(db, wx, {}, process.env.BENCH_AB_ROOT) }]
    : []),
];

const chosen = (process.env.BENCH_TARGETS ?? "").split(",").map((k) => k.trim()).filter(Boolean);
const unknown = chosen.filter((k) => !ALL_TARGETS.some((t) => t.key === k));
if (unknown.length > 0) {
  console.error(`BENCH_TARGETS: unknown ${unknown.join(", ")}; the servers are ${ALL_TARGETS.map((t) => t.key).join(", ")}`);
  process.exit(2);
}
const TARGETS = chosen.length === 0 ? ALL_TARGETS : ALL_TARGETS.filter((t) => chosen.includes(t.key));

/** A ratio with its target, printed with ✔ or ✘. */
function verdict(name: string, value: number, target: { atLeast?: number; atMost?: number }): { name: string; value: number; target: string; met: boolean } {
  const met = target.atLeast !== undefined ? value >= target.atLeast : value <= target.atMost!;
  const text = target.atLeast !== undefined ? `≥ ${target.atLeast}×` : `≤ ${target.atMost}×`;
  return { name, value, target: text, met };
}

const work = await mkdtemp(path.join(os.tmpdir(), "jit-bench-login-"));
try {
  const seeded = path.join(work, "seeded.sqlite");
  console.log(`login bench: seeding ${USERS.toLocaleString("en-US")} registered users…`);
  await seedDatabase(seeded, USERS, PREFIX);
  // One copy per server: a server's commits and checkpoints must not touch another's file.
  const dbFiles = await Promise.all(
    TARGETS.map(async (t) => {
      const file = path.join(work, `${t.key}.sqlite`);
      await copyFile(seeded, file);
      return file;
    }),
  );
  // Per target: a warm-up and ROUNDS measured rounds, each with fresh single-use codes.
  const perTarget = WARMUP + ROUNDS * REQUESTS;
  const { fake, codes } = await startFake(work, TARGETS.map(() => ({ count: perTarget, users: USERS, prefix: PREFIX })));
  const slice = (all: string[], round: number) => all.slice(WARMUP + round * REQUESTS, WARMUP + (round + 1) * REQUESTS);

  const procs: Proc[] = [];
  const runs: LoadResult[][] = TARGETS.map(() => []);
  let memory: { rssMiB: number; peakMiB: number } | null = null;
  try {
    for (const [i, t] of TARGETS.entries()) procs.push(await t.start(dbFiles[i]!, fake.url));
    console.log(`login bench: warm-up (${WARMUP} requests each), then ${ROUNDS} rounds of ${REQUESTS} requests, ${CONNECTIONS} connections`);
    for (const [i, t] of TARGETS.entries()) await runLoad(procs[i]!.url, codes[i]!.slice(0, WARMUP), CONNECTIONS, t.expect);
    for (let round = 0; round < ROUNDS; round++) {
      for (const [i, t] of TARGETS.entries()) runs[i]!.push(await runLoad(procs[i]!.url, slice(codes[i]!, round), CONNECTIONS, t.expect, procs[i]));
    }
    memory = procs[TARGETS.findIndex((t) => t.key === "jitServe")]?.memory() ?? null;
  } finally {
    for (const proc of procs) await proc.stop();
    await fake.stop();
  }

  const results = Object.fromEntries(TARGETS.map((t, i) => [t.key, summarise(runs[i]!)])) as Partial<Record<Target["key"], Summary>>;
  printTable([
    ["getLoginCode", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "main thread ms/req", "failures"],
    ...TARGETS.map((t) => {
      const r = results[t.key]!;
      return [t.label, r.rps, r.p50, r.p99, r.cpuMs, r.mainThreadMs, r.failures];
    }),
  ]);
  const { jitServe: jit, handWritten: hand, easyWechat: easy, easyWechatDefault: easyDefault, readOnly, jitServeInlineWrites: inline } = results;
  const ratios = [
    jit && hand && verdict("throughput, jit serve / hand-written", jit.rps / hand.rps, { atLeast: 0.8 }),
    jit && hand && verdict("p99, jit serve / hand-written", jit.p99 / hand.p99, { atMost: 1.5 }),
    jit && easy && verdict("throughput, jit serve / Fastify + node-easywechat", jit.rps / easy.rps, { atLeast: 1.1 }),
    // Not equal durability: the default syncs nothing before it answers, jit serve does.
    jit && easyDefault && verdict("throughput, jit serve / Fastify + node-easywechat at default durability", jit.rps / easyDefault.rps, { atLeast: 1.0 }),
  ].filter((r) => r !== undefined);
  console.log("");
  for (const r of ratios) console.log(`${r.met ? "✔" : "✘"} ${r.name}: ${r.value.toFixed(2)}× (target ${r.target})`);
  if (jit && readOnly) console.log(`  throughput, jit serve / read-only (history, no target): ${(jit.rps / readOnly.rps).toFixed(2)}×`);
  if (inline && hand) console.log(`  throughput, jit serve with inline writes / hand-written: ${(inline.rps / hand.rps).toFixed(2)}×`);
  if (jit && results.jitServeAB) console.log(`  throughput, jit serve / jit serve of ${process.env.BENCH_AB_ROOT}: ${(jit.rps / results.jitServeAB.rps).toFixed(2)}×`);
  if (memory) console.log(`jit serve memory: RSS ${memory.rssMiB.toFixed(0)} MiB, peak ${memory.peakMiB.toFixed(0)} MiB`);
  const file = writeResult("login", {
    machine: `${os.cpus().length} cores, ${(os.totalmem() / 2 ** 30).toFixed(0)} GiB, load average ${os.loadavg()[0]!.toFixed(1)} at the end`,
    users: USERS,
    requestsPerRound: REQUESTS,
    connections: CONNECTIONS,
    rounds: ROUNDS,
    ...results,
    ratios,
    memory,
  });
  console.log(`login bench: results in ${path.relative(process.cwd(), file)}`);
  const failures = Object.values(results).reduce((n, r) => n + r.failures, 0);
  if (failures > 0) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
