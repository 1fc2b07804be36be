/**
 * Scale: getLoginCode latency through `jit serve` with 1,000 and 1,000,000 registered users
 * in the database (lookups must stay flat: indexes, not scans), and the memory of the
 * serving process at both sizes. Run: node cli/run-ts.js bench/scale.ts
 *
 * One `jit serve` per size runs at the same time and requests alternate between them, one
 * at a time, so machine noise hits every size alike; latency is timed per request.
 * Knobs: BENCH_SCALE_SIZES (comma list, default "1000,1000000"), BENCH_SCALE_REQUESTS
 * (measured requests per size, default 2,000).
 */
import http from "node:http";
import { mkdtemp, rm, stat } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { envInt, percentile, printTable, seedDatabase, startFake, startJitServe, timedLogin, writeResult, type Proc } from "./lib/loginHarness.ts";

const SIZES = (process.env.BENCH_SCALE_SIZES ?? "1000,1000000").split(",").map((s) => Number(s.trim())).filter((n) => n > 0);
const REQUESTS = envInt("BENCH_SCALE_REQUESTS", 2_000);
const WARMUP = 300;
const PREFIX = "scale-user-";

const work = await mkdtemp(path.join(os.tmpdir(), "jit-bench-scale-"));
const agent = new http.Agent({ keepAlive: true, maxSockets: 1 });
try {
  const dbs: Array<{ users: number; file: string; seedMs: number }> = [];
  for (const users of SIZES) {
    const file = path.join(work, `scale-${users}.sqlite`);
    process.stdout.write(`scale bench: seeding ${users.toLocaleString("en-US")} users… `);
    const seedMs = await seedDatabase(file, users, PREFIX);
    console.log(`${(seedMs / 1000).toFixed(1)} s`);
    dbs.push({ users, file, seedMs });
  }
  const { fake, codes } = await startFake(
    work,
    dbs.map(({ users }) => ({ count: WARMUP + REQUESTS, users, prefix: PREFIX })),
  );
  const servers: Proc[] = [];
  const latencies: number[][] = dbs.map(() => []);
  let memory: Array<{ rssMiB: number; peakMiB: number } | null> = [];
  try {
    for (const db of dbs) servers.push(await startJitServe(db.file, fake.url));
    console.log(`scale bench: ${REQUESTS} getLoginCode per size, alternating between sizes, one at a time`);
    for (let i = 0; i < WARMUP + REQUESTS; i++) {
      for (const [s, server] of servers.entries()) {
        const ms = await timedLogin(agent, server.url, codes[s]![i]!, '"loginCode"');
        if (i >= WARMUP) latencies[s]!.push(ms);
      }
    }
    memory = servers.map((s) => s.memory());
  } finally {
    for (const s of servers) await s.stop();
    await fake.stop();
  }

  const results = await Promise.all(
    dbs.map(async (db, s) => {
      const sorted = [...latencies[s]!].sort((a, b) => a - b);
      const mean = sorted.reduce((a, b) => a + b, 0) / sorted.length;
      return {
        users: db.users,
        seedMs: db.seedMs,
        dbMiB: (await stat(db.file)).size / 2 ** 20,
        p50: percentile(sorted, 50),
        p99: percentile(sorted, 99),
        mean,
        memory: memory[s] ?? null,
      };
    }),
  );
  printTable([
    ["registered users", "db MiB", "p50 ms", "p99 ms", "mean ms", "RSS MiB", "peak RSS MiB"],
    ...results.map((r) => [r.users, r.dbMiB, r.p50, r.p99, r.mean, r.memory?.rssMiB ?? "n/a", r.memory?.peakMiB ?? "n/a"]),
  ]);
  const first = results[0]!;
  const last = results[results.length - 1]!;
  const p50Ratio = last.p50 / first.p50;
  const meanRatio = last.mean / first.mean;
  console.log(`latency ${last.users.toLocaleString("en-US")} vs ${first.users.toLocaleString("en-US")} users: p50 ${p50Ratio.toFixed(2)}×, mean ${meanRatio.toFixed(2)}× (flat ≈ 1)`);
  const file = writeResult("scale", { requests: REQUESTS, sizes: results, p50Ratio, meanRatio });
  console.log(`scale bench: results in ${path.relative(process.cwd(), file)}`);
} finally {
  agent.destroy();
  await rm(work, { recursive: true, force: true });
}
