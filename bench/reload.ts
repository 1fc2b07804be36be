/**
 * Reload benchmark: `jit dev` (the compiled CLI, as installed from the package) on a copy of
 * apps/demo plus a small service element with a business config and a TypeScript module.
 *
 * 1. Time from a saved file to the first answer of the new version, polled over HTTP every
 *    millisecond: for a saved business config and for a saved module. Baseline, the same work
 *    by hand: stop `jit serve`, start it again, poll until the first answer.
 * 2. RSS of the dev process after the first reload and after 200 more: 200 saved configs,
 *    then 200 saved modules, each with new content (the module cache's growth, the leak risk:
 *    Node keeps every module it imported for the life of the process).
 *
 * Run: node cli/run-ts.js bench/reload.ts (builds dist/ first; BENCH_NO_BUILD=1 skips that).
 * BENCH_RELOADS sets the reloads of part 2 (default 200), BENCH_RUNS the timed saves (15),
 * BENCH_IDLE_MS the idle time before each RSS reading (15000).
 */
import { execFileSync, spawn, type ChildProcess } from "node:child_process";
import { existsSync, mkdirSync, readFileSync, writeFileSync } from "node:fs";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { median } from "./lib/median.ts";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const JIT = path.join(REPO, "dist", "cli", "jit.js");
const RUNS = Number(process.env.BENCH_RUNS ?? 15);
const RELOADS = Number(process.env.BENCH_RELOADS ?? 200);
const MASTER_KEY = Buffer.alloc(32, 9).toString("base64");
const GREETER = "apps/demo/elements/shop/greeter";
const UNLIMITED = { JIT_RATE_LIMIT_IP: "off", JIT_RATE_LIMIT_USER: "off", JIT_RATE_LIMIT_OPENID: "off" };

if (!process.env.BENCH_NO_BUILD || !existsSync(JIT)) {
  execFileSync(process.execPath, [path.join(REPO, "scripts", "build.js")], { cwd: REPO, stdio: "inherit" });
}

const moduleText = (mark: string) => `export default (Parent: any) => class extends Parent {
  hello(): string { return ${JSON.stringify(mark)} + ": " + String(this.config.greeting); }
};
`;

async function makeRoot(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "jit-reload-bench-"));
  await fs.cp(path.join(REPO, "apps", "demo"), path.join(root, "apps", "demo"), { recursive: true });
  await fs.writeFile(path.join(root, "package.json"), JSON.stringify({ type: "module", private: true }));
  await fs.mkdir(path.join(root, GREETER), { recursive: true });
  await fs.writeFile(
    path.join(root, GREETER, "e.json"),
    JSON.stringify({
      title: "Greeter",
      type: "services.NormalType",
      backendBundleEntry: ".",
      frontBundleEntry: "./greeter.json",
      functionList: [{ name: "hello", title: "Hello", args: [], loginRequired: 0 }],
    }),
  );
  await fs.writeFile(path.join(root, GREETER, "greeter.json"), JSON.stringify({ greeting: "g0" }));
  await fs.writeFile(path.join(root, GREETER, "index.ts"), moduleText("m0"));
  return root;
}

interface Proc {
  child: ChildProcess;
  out(): string;
  waitFor(pattern: RegExp, from?: number): Promise<RegExpMatchArray>;
}

function start(root: string, args: string[]): Proc {
  const child = spawn(process.execPath, [JIT, "--root", root, ...args, "--port", "0"], {
    // Rate limits off: the benchmark polls far faster than any client may.
    env: { ...process.env, ...UNLIMITED, JIT_LOG_LEVEL: "warn", JIT_MASTER_KEY: MASTER_KEY, JIT_ADMIN_TOKEN: "bench-admin-token-0123456789", JIT_DB: "", DATABASE_URL: "" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let out = "";
  let err = "";
  child.stdout!.on("data", (c: Buffer) => (out += c.toString()));
  child.stderr!.on("data", (c: Buffer) => (err = (err + c.toString()).slice(-4000)));
  return {
    child,
    out: () => out,
    async waitFor(pattern, from = 0) {
      for (;;) {
        const m = pattern.exec(out.slice(from));
        if (m) return m;
        if (child.exitCode !== null) throw new Error(`${args.join(" ")} exited (${child.exitCode}): ${out}\n${err}`);
        await new Promise((r) => setTimeout(r, 1));
      }
    },
  };
}

async function stop(p: Proc): Promise<void> {
  const exited = new Promise((r) => p.child.once("exit", r));
  p.child.kill("SIGTERM");
  await exited;
}

async function hello(base: string): Promise<string | null> {
  try {
    const res = await fetch(`${base}/api/demo/shop/greeter/hello`, { method: "POST" });
    return ((await res.json()) as { data?: string }).data ?? null;
  } catch {
    return null;
  }
}

/** Milliseconds from `save` to the first answer equal to `expected`. */
async function untilAnswer(base: () => string | null, save: () => Promise<void>, expected: string): Promise<number> {
  const t0 = performance.now();
  await save();
  for (;;) {
    const url = base();
    if (url && (await hello(url)) === expected) return performance.now() - t0;
    await new Promise((r) => setTimeout(r, 1));
  }
}

const rssMb = (pid: number) => {
  const line = readFileSync(`/proc/${pid}/status`, "utf8").split("\n").find((l) => l.startsWith("VmRSS:"))!;
  return Number(line.replace(/\D+/g, "")) / 1024;
};
const p90 = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length * 0.9)]!;

const root = await makeRoot();
const config = path.join(root, GREETER, "greeter.json");
const module = path.join(root, GREETER, "index.ts");
let mark = "m0";
let greeting = "g0";

// 1a. jit dev: saved config, saved module.
const dev = start(root, ["dev"]);
const [, devBase] = await dev.waitFor(/app demo listening on (http:\/\/127\.0\.0\.1:\d+)/);
await dev.waitFor(/watching/);
let version = 1;
const nextVersion = async () => {
  version += 1;
  await dev.waitFor(new RegExp(`reloaded: version ${version} `));
};
const configMs: number[] = [];
const moduleMs: number[] = [];
for (let i = 1; i <= RUNS; i++) {
  greeting = `g${i}`;
  configMs.push(await untilAnswer(() => devBase!, () => fs.writeFile(config, JSON.stringify({ greeting })), `${mark}: ${greeting}`));
  await nextVersion();
  await new Promise((r) => setTimeout(r, 50));
  mark = `m${i}`;
  moduleMs.push(await untilAnswer(() => devBase!, () => fs.writeFile(module, moduleText(mark)), `${mark}: ${greeting}`));
  await nextVersion();
  await new Promise((r) => setTimeout(r, 50));
}

// 2. RSS: after one more reload, then after RELOADS saved configs, then RELOADS saved modules.
const pid = dev.child.pid!;
// As between a developer's saves: idle long enough for V8 to give back heap it no longer needs.
const settle = () => new Promise((r) => setTimeout(r, Number(process.env.BENCH_IDLE_MS ?? 15_000)));
const reloadWith = async (save: () => Promise<void>) => {
  await save();
  await nextVersion();
};
greeting = "rss-first";
await reloadWith(() => fs.writeFile(config, JSON.stringify({ greeting })));
await settle();
const rssFirst = rssMb(pid);
for (let i = 0; i < RELOADS; i++) await reloadWith(() => fs.writeFile(config, JSON.stringify({ greeting: `c${i}` })));
await settle();
const rssAfterConfigs = rssMb(pid);
for (let i = 0; i < RELOADS; i++) await reloadWith(() => fs.writeFile(module, moduleText(`rss-${i}`)));
await settle();
const rssAfterModules = rssMb(pid);
await stop(dev);

// 1b. Baseline by hand: restart jit serve with the saved config, until its first answer.
const restartMs: number[] = [];
let serving = start(root, ["serve"]);
let serveBase: string | null = (await serving.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
const finalMark = `rss-${RELOADS - 1}`;
for (let i = 1; i <= RUNS; i++) {
  greeting = `r${i}`;
  restartMs.push(
    await untilAnswer(
      () => serveBase,
      async () => {
        await fs.writeFile(config, JSON.stringify({ greeting }));
        serveBase = null;
        await stop(serving);
        serving = start(root, ["serve"]);
        serving.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/).then((m) => (serveBase = m[1]!), () => undefined);
      },
      `${finalMark}: ${greeting}`,
    ),
  );
}
await stop(serving);
await fs.rm(root, { recursive: true, force: true });

// 2b. What stays alive: the same reloads in one process with a full GC before each reading
// (bench/lib/reloadLeak.mjs), so garbage not yet collected does not count as a leak.
const leakRoot = await makeRoot();
const leakRun = execFileSync(process.execPath, ["--expose-gc", path.join(REPO, "bench", "lib", "reloadLeak.mjs"), leakRoot, String(RELOADS)], {
  encoding: "utf8",
  env: { ...process.env, JIT_LOG_LEVEL: "silent", JIT_MASTER_KEY: MASTER_KEY, JIT_DB: "", DATABASE_URL: "" },
  maxBuffer: 16 * 1024 * 1024,
});
await fs.rm(leakRoot, { recursive: true, force: true });
type Reading = { rssMb: number; heapMb: number; heapTotalMb: number; externalMb: number };
type Series = Record<string, Reading>;
const leak = JSON.parse(leakRun.trim().split("\n").pop()!) as { first: Reading; afterConfigs: Reading; afterModules: Reading; configs: Series; modules: Series };

const results = {
  date: new Date().toISOString(),
  node: process.version,
  cpus: os.cpus().length,
  loadavg: os.loadavg(),
  runs: RUNS,
  reloads: RELOADS,
  savedConfigToNewAnswerMs: { median: median(configMs), p90: p90(configMs) },
  savedModuleToNewAnswerMs: { median: median(moduleMs), p90: p90(moduleMs) },
  restartByHandMs: { median: median(restartMs), p90: p90(restartMs) },
  rssMb: { afterFirstReload: rssFirst, afterConfigReloads: rssAfterConfigs, afterModuleReloads: rssAfterModules },
  afterFullGc: leak,
};
const f = (n: number) => n.toFixed(0);
console.log(`reload benchmark (node ${process.version}, ${results.cpus} cpu, load ${os.loadavg()[0]!.toFixed(1)}; ${RUNS} timed saves each)`);
console.log(`saved config → first new answer:  median ${f(median(configMs))} ms, p90 ${f(p90(configMs))} ms  (${(median(restartMs) / median(configMs)).toFixed(1)}× faster than a restart)`);
console.log(`saved module → first new answer:  median ${f(median(moduleMs))} ms, p90 ${f(p90(moduleMs))} ms  (${(median(restartMs) / median(moduleMs)).toFixed(1)}× faster than a restart)`);
console.log(`restart jit serve by hand:        median ${f(median(restartMs))} ms, p90 ${f(p90(restartMs))} ms`);
console.log(`RSS after the first reload ${rssFirst.toFixed(1)} MB; after ${RELOADS} config reloads ${rssAfterConfigs.toFixed(1)} MB (${(((rssAfterConfigs / rssFirst) - 1) * 100).toFixed(1)}%); after ${RELOADS} module reloads more ${rssAfterModules.toFixed(1)} MB (${(((rssAfterModules / rssFirst) - 1) * 100).toFixed(1)}% over the first)`);
const pct = (a: number, b: number) => `${(((a / b) - 1) * 100).toFixed(1)}%`;
console.log(
  `after a full GC (one process, bench/lib/reloadLeak.mjs): RSS ${leak.first.rssMb.toFixed(1)} MB after the first reload, ` +
    `${leak.afterConfigs.rssMb.toFixed(1)} MB after ${RELOADS} config reloads (${pct(leak.afterConfigs.rssMb, leak.first.rssMb)}), ` +
    `${leak.afterModules.rssMb.toFixed(1)} MB after ${RELOADS} module reloads more (${pct(leak.afterModules.rssMb, leak.first.rssMb)}); ` +
    `heap ${leak.first.heapMb.toFixed(1)} → ${leak.afterConfigs.heapMb.toFixed(1)} → ${leak.afterModules.heapMb.toFixed(1)} MB`,
);
// The series: a plateau is warm-up; a slope that lasts past reload 100 is what each reload keeps.
for (const [kind, series] of [["config", leak.configs], ["module", leak.modules]] as const) {
  console.log(
    `  after ${kind} reload ` +
      Object.entries(series)
        .map(([n, r]) => `${n}: RSS ${r.rssMb.toFixed(0)} MB, heap ${r.heapMb.toFixed(1)} MB`)
        .join("; "),
  );
}
mkdirSync(path.join(REPO, "bench", "results"), { recursive: true });
writeFileSync(path.join(REPO, "bench", "results", "reload.json"), `${JSON.stringify(results, null, 2)}\n`);
