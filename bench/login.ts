/**
 * Login throughput and latency: concurrent clients calling getLoginCode for registered users
 * through `jit serve`, against a bare node:http baseline doing the same upstream call (got)
 * and the same indexed SQLite lookup, in the same run. The fake WeChat server answers on
 * loopback from its own process. Run: node cli/run-ts.js bench/login.ts
 *
 * Knobs: BENCH_USERS (registered users, default 10,000), BENCH_REQUESTS (per round and
 * target, default 6,000), BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 3).
 * Diagnosis: BENCH_CPU_PROF=<dir> (V8 profile of jit serve), BENCH_NODE_FLAGS (node flags for it).
 */
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { envInt, printTable, runLoad, seedDatabase, startBaseline, startFake, startJitServe, writeResult, type LoadResult } from "./lib/loginHarness.ts";

const USERS = envInt("BENCH_USERS", 10_000);
const REQUESTS = envInt("BENCH_REQUESTS", 6_000);
const CONNECTIONS = envInt("BENCH_CONNECTIONS", 32);
const ROUNDS = envInt("BENCH_ROUNDS", 3);
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
  // Per target: a warm-up and ROUNDS measured rounds, each with fresh single-use codes.
  const perTarget = WARMUP + ROUNDS * REQUESTS;
  const { fake, codes } = await startFake(work, [
    { count: perTarget, users: USERS, prefix: PREFIX },
    { count: perTarget, users: USERS, prefix: PREFIX },
  ]);
  const [jitCodes, baseCodes] = codes as [string[], string[]];
  const slice = (all: string[], round: number) => all.slice(WARMUP + round * REQUESTS, WARMUP + (round + 1) * REQUESTS);

  const ours: LoadResult[] = [];
  const base: LoadResult[] = [];
  let memory: { rssMiB: number; peakMiB: number } | null = null;
  try {
    const jit = await startJitServe(dbFile, fake.url);
    const baseline = await startBaseline(dbFile, fake.url);
    try {
      console.log(`login bench: warm-up (${WARMUP} requests each), then ${ROUNDS} rounds of ${REQUESTS} requests, ${CONNECTIONS} connections`);
      await runLoad(jit.url, jitCodes.slice(0, WARMUP), CONNECTIONS, '"loginCode"');
      await runLoad(baseline.url, baseCodes.slice(0, WARMUP), CONNECTIONS, '"userId"');
      // Alternate the targets so machine noise hits both alike.
      for (let round = 0; round < ROUNDS; round++) {
        base.push(await runLoad(baseline.url, slice(baseCodes, round), CONNECTIONS, '"userId"', baseline));
        ours.push(await runLoad(jit.url, slice(jitCodes, round), CONNECTIONS, '"loginCode"', jit));
      }
      memory = jit.memory();
    } finally {
      await jit.stop();
      await baseline.stop();
    }
  } finally {
    await fake.stop();
  }

  const o = summarise(ours);
  const b = summarise(base);
  const ratio = o.rps / b.rps;
  printTable([
    ["getLoginCode", "req/s", "p50 ms", "p99 ms", "server CPU ms/req", "main thread ms/req", "failures"],
    ["baseline (node:http + got + SQLite lookup)", b.rps, b.p50, b.p99, b.cpuMs, b.mainThreadMs, b.failures],
    ["jit serve", o.rps, o.p50, o.p99, o.cpuMs, o.mainThreadMs, o.failures],
  ]);
  console.log(`ratio jit serve / baseline: ${ratio.toFixed(2)}× (target ≥ ${TARGET}×) ${ratio >= TARGET ? "OK" : "BELOW TARGET"}`);
  if (memory) console.log(`jit serve memory: RSS ${memory.rssMiB.toFixed(0)} MiB, peak ${memory.peakMiB.toFixed(0)} MiB`);
  const file = writeResult("login", {
    users: USERS,
    requestsPerRound: REQUESTS,
    connections: CONNECTIONS,
    rounds: ROUNDS,
    baseline: b,
    jitServe: o,
    ratio,
    target: TARGET,
    memory,
  });
  console.log(`login bench: results in ${path.relative(process.cwd(), file)}`);
  if (o.failures + b.failures > 0) process.exitCode = 1;
} finally {
  await rm(work, { recursive: true, force: true });
}
