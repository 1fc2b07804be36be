/**
 * Login throughput and latency: concurrent clients calling getLoginCode for registered users
 * through `jit serve`, against a bare node:http baseline doing the same upstream call (got)
 * and the same indexed SQLite lookup, in the same run. A second `jit serve` with its SQLite
 * writes inline (JIT_SQLITE_WRITER=inline) shows what the writer thread buys. The fake WeChat server answers on
 * loopback from its own process. Run: node cli/run-ts.js bench/login.ts
 *
 * Knobs: BENCH_USERS (registered users, default 10,000), BENCH_REQUESTS (per round and
 * target, default 6,000), BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 5).
 * Diagnosis: BENCH_CPU_PROF=<dir> (V8 profile of jit serve), BENCH_NODE_FLAGS (node flags for it).
 */
import { copyFile, mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { envInt, printTable, runLoad, seedDatabase, startBaseline, startFake, startJitServe, writeResult, type LoadResult, type Proc } from "./lib/loginHarness.ts";

const USERS = envInt("BENCH_USERS", 10_000);
const REQUESTS = envInt("BENCH_REQUESTS", 6_000);
const CONNECTIONS = envInt("BENCH_CONNECTIONS", 32);
const ROUNDS = envInt("BENCH_ROUNDS", 5);
const WARMUP = Math.min(1_000, REQUESTS);
const TARGET = 0.8;
const PREFIX = "bench-user-";

const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

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

const work = await mkdtemp(path.join(os.tmpdir(), "jit-bench-login-"));
try {
  const dbFile = path.join(work, "login.sqlite");
  console.log(`login bench: seeding ${USERS.toLocaleString("en-US")} registered users…`);
  await seedDatabase(dbFile, USERS, PREFIX);
  // One copy per server: a server's commits and checkpoints must not touch another's file
  // (the baseline's reads would also see jit serve's WAL grow and hold its checkpoints back).
  const jitDbFile = path.join(work, "login-jit.sqlite");
  const inlineDbFile = path.join(work, "login-inline.sqlite");
  await copyFile(dbFile, jitDbFile);
  await copyFile(dbFile, inlineDbFile);
  // Per target: a warm-up and ROUNDS measured rounds, each with fresh single-use codes.
  const perTarget = WARMUP + ROUNDS * REQUESTS;
  const { fake, codes } = await startFake(work, Array.from({ length: 3 }, () => ({ count: perTarget, users: USERS, prefix: PREFIX })));
  const slice = (all: string[], round: number) => all.slice(WARMUP + round * REQUESTS, WARMUP + (round + 1) * REQUESTS);

  const targets: Array<{ label: string; expect: string; codes: string[]; start: () => Promise<Proc>; proc?: Proc; runs: LoadResult[] }> = [
    { label: "baseline (node:http + got + SQLite lookup)", expect: '"userId"', codes: codes[0]!, start: () => startBaseline(dbFile, fake.url), runs: [] },
    { label: "jit serve", expect: '"loginCode"', codes: codes[1]!, start: () => startJitServe(jitDbFile, fake.url), runs: [] },
    {
      label: "jit serve, writes inline (JIT_SQLITE_WRITER=inline)",
      expect: '"loginCode"',
      codes: codes[2]!,
      start: () => startJitServe(inlineDbFile, fake.url, { JIT_SQLITE_WRITER: "inline" }),
      runs: [],
    },
  ];
  const [base, jit, inline] = targets as [(typeof targets)[0], (typeof targets)[0], (typeof targets)[0]];
  let memory: { rssMiB: number; peakMiB: number } | null = null;
  try {
    for (const target of targets) target.proc = await target.start();
    console.log(`login bench: warm-up (${WARMUP} requests each), then ${ROUNDS} rounds of ${REQUESTS} requests, ${CONNECTIONS} connections`);
    for (const t of targets) await runLoad(t.proc!.url, t.codes.slice(0, WARMUP), CONNECTIONS, t.expect);
    // Interleave the targets, round by round, so machine noise hits them alike.
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) t.runs.push(await runLoad(t.proc!.url, slice(t.codes, round), CONNECTIONS, t.expect, t.proc));
    }
    memory = jit.proc!.memory();
  } finally {
    for (const t of targets) await t.proc?.stop();
    await fake.stop();
  }

  const [b, o, i] = [summarise(base.runs), summarise(jit.runs), summarise(inline.runs)];
  const ratio = o.rps / b.rps;
  printTable([
    ["getLoginCode", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "main thread ms/req", "failures"],
    ...[
      [base.label, b],
      [jit.label, o],
      [inline.label, i],
    ].map(([label, r]) => {
      const x = r as ReturnType<typeof summarise>;
      return [label as string, x.rps, x.p50, x.p99, x.cpuMs, x.mainThreadMs, x.failures];
    }),
  ]);
  console.log(`ratio jit serve / baseline: ${ratio.toFixed(2)}× (target ≥ ${TARGET}×) ${ratio >= TARGET ? "OK" : "BELOW TARGET"}`);
  console.log(`ratio with inline writes / baseline: ${(i.rps / b.rps).toFixed(2)}×`);
  if (memory) console.log(`jit serve memory: RSS ${memory.rssMiB.toFixed(0)} MiB, peak ${memory.peakMiB.toFixed(0)} MiB`);
  const file = writeResult("login", {
    users: USERS,
    requestsPerRound: REQUESTS,
    connections: CONNECTIONS,
    rounds: ROUNDS,
    baseline: b,
    jitServe: o,
    jitServeInlineWrites: i,
    ratio,
    ratioInlineWrites: i.rps / b.rps,
    target: TARGET,
    memory,
  });
  console.log(`login bench: results in ${path.relative(process.cwd(), file)}`);
  if (o.failures + b.failures + i.failures > 0) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
