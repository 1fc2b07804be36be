/**
 * Several processes: getLoginCode throughput with 1 and 2 `jit serve` processes on one
 * PostgreSQL database and on one SQLite file, in the same run (ratios against the same run's
 * single process); and getLoginCode latency on PostgreSQL with 1,000 and 1,000,000 users
 * (one at a time, alternating between the sizes, as bench/scale.ts does on SQLite).
 * Run: node cli/run-ts.js bench/cluster.ts  (needs PostgreSQL: JIT_BENCH_PG, else
 * postgres://postgres@127.0.0.1:5432/postgres; each target gets its own database, dropped after).
 *
 * Knobs: BENCH_USERS (default 10,000), BENCH_REQUESTS (per round and target, default 3,000),
 * BENCH_CONNECTIONS (default 32), BENCH_ROUNDS (default 3), BENCH_SCALE_SIZES (default
 * "1000,1000000"), BENCH_SCALE_REQUESTS (default 1,000).
 */
import http from "node:http";
import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import pg from "pg";
import { openStore } from "../elements/auths/storage/openStore.ts";
import { BENCH_APP, envInt, percentile, printTable, runLoad, seedDatabase, startFake, startJitServe, timedLogin, writeResult, type LoadResult, type Proc } from "./lib/loginHarness.ts";
import { median } from "./lib/median.ts";

const USERS = envInt("BENCH_USERS", 10_000);
const REQUESTS = envInt("BENCH_REQUESTS", 3_000);
const CONNECTIONS = envInt("BENCH_CONNECTIONS", 32);
const ROUNDS = envInt("BENCH_ROUNDS", 3);
const SIZES = (process.env.BENCH_SCALE_SIZES ?? "1000,1000000").split(",").map(Number).filter((n) => n > 0);
const SCALE_REQUESTS = envInt("BENCH_SCALE_REQUESTS", 1_000);
const WARMUP = 500;
const PREFIX = "cluster-user-";
const ADMIN = process.env.JIT_BENCH_PG ?? "postgres://postgres@127.0.0.1:5432/postgres";

const created: string[] = [];

async function admin<T>(database: string | null, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const url = new URL(ADMIN);
  if (database) url.pathname = `/${database}`;
  const c = new pg.Client({ connectionString: url.toString() });
  await c.connect();
  try {
    return await work(c);
  } finally {
    await c.end();
  }
}

/** A fresh PostgreSQL database migrated by the runtime and seeded with `count` users (openId = prefix + index). */
async function seedPostgres(count: number): Promise<{ url: string; seedMs: number }> {
  const name = `jit_bench_${randomBytes(5).toString("hex")}`;
  await admin(null, (c) => c.query(`CREATE DATABASE ${name}`));
  created.push(name);
  const url = new URL(ADMIN);
  url.pathname = `/${name}`;
  const started = Date.now();
  await (await openStore(url.toString())).close(); // creates the tables
  await admin(name, async (c) => {
    const now = Date.now();
    await c.query("INSERT INTO users (name, created_at) SELECT NULL, $1 FROM generate_series(1, $2)", [now, count]);
    await c.query("INSERT INTO corps (corp_id, corp_name) VALUES ('demo-corp', 'Demo Corp')");
    await c.query("INSERT INTO identities (provider, realm, subject, union_id, user_id, created_at, updated_at) SELECT 'wechat-mini', $1, $2 || (user_id - 1), NULL, user_id, $3, $3 FROM users", [BENCH_APP.appId, PREFIX, now]);
    await c.query("INSERT INTO corp_members (corp_id, user_id, joined_at) SELECT 'demo-corp', user_id, $1 FROM users", [now]);
    await c.query("VACUUM ANALYZE");
  });
  return { url: url.toString(), seedMs: Date.now() - started };
}

/** Load over several servers at once: the codes split evenly, each server its share of the connections. */
async function loadOver(procs: Proc[], codes: string[]): Promise<LoadResult> {
  const share = Math.ceil(codes.length / procs.length);
  const parts = await Promise.all(procs.map((p, i) => runLoad(p.url, codes.slice(i * share, (i + 1) * share), Math.ceil(CONNECTIONS / procs.length), '"loginCode"')));
  // Each part's own time to its last answer (they start together), not the time until the
  // promises settle: autocannon settles on its next 1-second tick, which rounded every
  // figure to 3,000 requests over a whole number of seconds (1,494 and 499 req/s).
  const seconds = Math.max(...parts.map((r) => r.requests / r.rps));
  return {
    requests: codes.length,
    rps: codes.length / seconds,
    p50: median(parts.map((r) => r.p50)),
    p99: Math.max(...parts.map((r) => r.p99)),
    mean: parts.reduce((a, r) => a + r.mean, 0) / parts.length,
    failures: parts.reduce((a, r) => a + r.failures, 0),
    cpuMsPerRequest: NaN,
    mainThreadMsPerRequest: NaN,
  };
}

const work = await mkdtemp(path.join(os.tmpdir(), "jit-bench-cluster-"));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
try {
  console.log(`cluster bench: seeding ${USERS.toLocaleString("en-US")} users on PostgreSQL and SQLite…`);
  const pgDb = await seedPostgres(USERS);
  const sqliteFile = path.join(work, "cluster.sqlite");
  await seedDatabase(sqliteFile, USERS, PREFIX);

  const perTarget = WARMUP + ROUNDS * REQUESTS;
  const { fake, codes } = await startFake(work, [
    ...Array.from({ length: 4 }, () => ({ count: perTarget, users: USERS, prefix: PREFIX })),
    ...SIZES.map((users) => ({ count: WARMUP / 5 + SCALE_REQUESTS, users, prefix: PREFIX })),
  ]);
  const targets = [
    { label: "PostgreSQL, 1 process", db: pgDb.url, n: 1 },
    { label: "PostgreSQL, 2 processes", db: pgDb.url, n: 2 },
    { label: "SQLite, 1 process", db: sqliteFile, n: 1 },
    { label: "SQLite, 2 processes", db: sqliteFile, n: 2 },
  ].map((t, i) => ({ ...t, codes: codes[i]!, procs: [] as Proc[], runs: [] as LoadResult[] }));
  const scaleServers: Proc[] = [];
  const latencies: number[][] = SIZES.map(() => []);
  try {
    for (const t of targets) for (let k = 0; k < t.n; k++) t.procs.push(await startJitServe(t.db, fake.url, { JIT_LOG_LEVEL: "warn" }));
    for (const t of targets) await loadOver(t.procs, t.codes.slice(0, WARMUP));
    console.log(`cluster bench: ${ROUNDS} rounds of ${REQUESTS} getLoginCode per target, ${CONNECTIONS} connections, targets interleaved`);
    for (let round = 0; round < ROUNDS; round++) {
      for (const t of targets) t.runs.push(await loadOver(t.procs, t.codes.slice(WARMUP + round * REQUESTS, WARMUP + (round + 1) * REQUESTS)));
    }
  } finally {
    for (const t of targets) for (const p of t.procs) await p.stop();
  }
  // The scale databases are seeded after the throughput rounds: a million-row database being
  // written, vacuumed and checkpointed slowed every target of those rounds by half.
  const scaleDbs: Array<{ users: number; url: string; seedMs: number }> = [];
  for (const size of SIZES) {
    process.stdout.write(`cluster bench: seeding ${size.toLocaleString("en-US")} users on PostgreSQL… `);
    const db = await seedPostgres(size);
    console.log(`${(db.seedMs / 1000).toFixed(1)} s`);
    scaleDbs.push({ users: size, ...db });
  }
  await admin(null, (c) => c.query("CHECKPOINT"));
  try {
    for (const db of scaleDbs) scaleServers.push(await startJitServe(db.url, fake.url, { JIT_LOG_LEVEL: "warn" }));
    console.log(`cluster bench: ${SCALE_REQUESTS} getLoginCode per size on PostgreSQL, alternating, one at a time`);
    const scaleCodes = codes.slice(4);
    for (let i = 0; i < WARMUP / 5 + SCALE_REQUESTS; i++) {
      for (const [s, server] of scaleServers.entries()) {
        const ms = await timedLogin(agent, server.url, scaleCodes[s]![i]!, '"loginCode"');
        if (i >= WARMUP / 5) latencies[s]!.push(ms);
      }
    }
  } finally {
    for (const s of scaleServers) await s.stop();
    await fake.stop();
  }

  const rows = targets.map((t) => ({ label: t.label, rps: median(t.runs.map((r) => r.rps)), p50: median(t.runs.map((r) => r.p50)), p99: median(t.runs.map((r) => r.p99)), failures: t.runs.reduce((a, r) => a + r.failures, 0) }));
  printTable([["getLoginCode", "req/s", "p50 ms", "p99 ms", "failures"], ...rows.map((r) => [r.label, r.rps, r.p50, r.p99, r.failures])]);
  const pgRatio = rows[1]!.rps / rows[0]!.rps;
  const sqliteRatio = rows[3]!.rps / rows[2]!.rps;
  console.log(`2 processes / 1: PostgreSQL ${pgRatio.toFixed(2)}×, SQLite ${sqliteRatio.toFixed(2)}× (machine: ${os.availableParallelism()} cores)`);
  const scale = SIZES.map((users, s) => {
    const sorted = [...latencies[s]!].sort((a, b) => a - b);
    return { users, p50: percentile(sorted, 50), p99: percentile(sorted, 99), seedMs: scaleDbs[s]!.seedMs };
  });
  printTable([["PostgreSQL users", "p50 ms", "p99 ms"], ...scale.map((r) => [r.users, r.p50, r.p99])]);
  const p50Ratio = scale[scale.length - 1]!.p50 / scale[0]!.p50;
  console.log(`PostgreSQL latency ${SIZES[SIZES.length - 1]} vs ${SIZES[0]} users: p50 ${p50Ratio.toFixed(2)}× (target ≤ 1.1×)`);
  const file = writeResult("cluster", { users: USERS, requestsPerRound: REQUESTS, connections: CONNECTIONS, rounds: ROUNDS, throughput: rows, pgRatio, sqliteRatio, scale, p50Ratio });
  console.log(`cluster bench: results in ${path.relative(process.cwd(), file)}`);
  if (rows.some((r) => r.failures > 0)) process.exitCode = 1;
} finally {
  agent.destroy();
  for (const name of created) await admin(null, (c) => c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`)).catch(() => undefined);
  await rm(work, { recursive: true, force: true });
}
