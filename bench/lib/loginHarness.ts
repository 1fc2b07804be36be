import { spawn, type ChildProcess } from "node:child_process";
import http from "node:http";
import { closeSync, mkdirSync, mkdtempSync, openSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import os from "node:os";
import path from "node:path";
import { fileURLToPath } from "node:url";
import autocannon from "autocannon";
import { openSqliteStore } from "../../elements/auths/storage/sqlite/index.ts";

/** Shared parts of bench/login.ts and bench/scale.ts: child processes, seeding, load, output. */

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
/** The demo app's mini program (apps/demo/.../myWeChatMiniLogin.json): jit serve runs apps/demo. */
export const BENCH_APP = { appId: "wx00000000000demo0", appSecret: "demo-secret-for-the-fake-wechat-server" };
export const LOGIN_PATH = "/api/demo/auths/loginTypes/myWeChatMiniLogin/getLoginCode";
export const MASTER_KEY = Buffer.alloc(32, 9).toString("base64");
/** The login type the demo's instance records on its login codes (its fullName). */
export const BENCH_LOGIN_TYPE = "auths.loginTypes.myWeChatMiniLogin";

export const envInt = (name: string, fallback: number) => {
  const value = Number(process.env[name]);
  return Number.isFinite(value) && value > 0 ? Math.floor(value) : fallback;
};

export interface Proc {
  url: string;
  proc: ChildProcess;
  /** Resident memory now and at its peak, in MiB (Linux /proc; null elsewhere). */
  memory(): { rssMiB: number; peakMiB: number } | null;
  /** CPU time (user + system) used so far by the whole process, in ms (Linux /proc; NaN elsewhere). */
  cpuMs(): number;
  /** The same for the main thread alone (the event loop), which bounds a Node server's throughput. */
  mainThreadCpuMs(): number;
  stop(): Promise<number | null>;
}

/** utime + stime from a /proc stat file, in ms; NaN where /proc is missing. */
function cpuMsOf(statFile: string): number {
  try {
    // Fields 14 and 15 (after the parenthesised name): utime, stime in clock ticks of 10 ms.
    const fields = readFileSync(statFile, "utf8").split(") ")[1]!.split(" ");
    return (Number(fields[11]) + Number(fields[12])) * 10;
  } catch {
    return NaN;
  }
}

/** Starts a child and waits for the line that carries its URL ("ready <url>" or jit serve's "listening on <url>"). */
export function startProc(args: string[], env: Record<string, string>, timeoutMs = 120_000): Promise<Proc> {
  // stderr (a serving process logs a line per request) goes to a file, as a deployed server's
  // would: piped here, the load generator's own process would spend CPU reading every line,
  // and only the servers that log would pay for it.
  const logDir = mkdtempSync(path.join(os.tmpdir(), "jit-bench-log-"));
  const logFile = path.join(logDir, "stderr.log");
  const logFd = openSync(logFile, "w");
  const proc = spawn(process.execPath, args, { cwd: REPO, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", logFd] });
  closeSync(logFd);
  const errTail = () => {
    try {
      return readFileSync(logFile, "utf8").slice(-4000);
    } catch {
      return "";
    }
  };
  const removeLog = () => rmSync(logDir, { recursive: true, force: true });
  let out = "";
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => fail(new Error(`timed out starting ${args.join(" ")}\n${errTail()}`)), timeoutMs);
    const fail = (e: Error) => {
      clearTimeout(timer);
      proc.kill("SIGKILL");
      removeLog();
      reject(e);
    };
    proc.on("exit", (code) => fail(new Error(`${args.join(" ")} exited (${code}) before it was ready\n${errTail()}`)));
    proc.stdout!.on("data", (c: Buffer) => {
      out += c.toString("utf8");
      const match = /(?:ready|listening on) (http:\/\/127\.0\.0\.1:\d+)/.exec(out);
      if (!match) return;
      clearTimeout(timer);
      proc.removeAllListeners("exit");
      const exited = new Promise<number | null>((r) => proc.on("exit", (code) => r(code)));
      resolve({
        url: match[1]!,
        proc,
        memory() {
          try {
            const status = readFileSync(`/proc/${proc.pid}/status`, "utf8");
            const kb = (key: string) => Number(new RegExp(`${key}:\\s+(\\d+)`).exec(status)?.[1] ?? NaN);
            return { rssMiB: kb("VmRSS") / 1024, peakMiB: kb("VmHWM") / 1024 };
          } catch {
            return null;
          }
        },
        cpuMs: () => cpuMsOf(`/proc/${proc.pid}/stat`),
        // The main thread's task id is the process id.
        mainThreadCpuMs: () => cpuMsOf(`/proc/${proc.pid}/task/${proc.pid}/stat`),
        async stop() {
          proc.kill("SIGTERM");
          const code = await exited;
          removeLog();
          return code;
        },
      });
    });
  });
}

/** The fake WeChat server in its own process, with the benches' codes minted up front. */
export async function startFake(workDir: string, segments: Array<{ count: number; users: number; prefix: string }>) {
  const codesFile = path.join(workDir, "codes.json");
  const fake = await startProc([path.join(REPO, "cli/run-ts.js"), path.join(REPO, "bench/lib/loginFake.ts")], {
    BENCH_MINT: JSON.stringify(segments),
    BENCH_CODES_FILE: codesFile,
  });
  const codes = JSON.parse(readFileSync(codesFile, "utf8")) as string[][];
  return { fake, codes };
}

/**
 * `jit serve` for apps/demo on `dbFile`, limits off (the bench is one client IP), logs as
 * deployed (info); `root`: another checkout to run it from (before/after comparisons).
 */
export function startJitServe(dbFile: string, wechatBase: string, env: Record<string, string> = {}, root = REPO): Promise<Proc> {
  // Diagnosis: BENCH_CPU_PROF=<dir> writes a V8 CPU profile of the serving process at exit.
  const profile = process.env.BENCH_CPU_PROF ? ["--cpu-prof", "--cpu-prof-dir", process.env.BENCH_CPU_PROF] : [];
  // Diagnosis: BENCH_NODE_FLAGS="--flag …" are passed to the serving node process.
  const flags = (process.env.BENCH_NODE_FLAGS ?? "").split(" ").filter(Boolean);
  return startProc([...profile, ...flags, path.join(root, "cli/bin.js"), "--root", root, "--app", "demo", "serve", "--port", "0", "--db", dbFile], {
    WECHAT_API_BASE: wechatBase,
    JIT_MASTER_KEY: MASTER_KEY,
    JIT_RATE_LIMIT_IP: "off",
    JIT_RATE_LIMIT_OPENID: "off",
    JIT_LOG_LEVEL: process.env.BENCH_LOG_LEVEL ?? "info",
    ...env,
  });
}

/** One of the comparison servers in bench/lib (loginBaseline.ts, loginHandWork.ts, loginEasyWechat.ts) on `dbFile`; `env`: its options. */
export function startBaseline(dbFile: string, wechatBase: string, module = "loginBaseline.ts", env: Record<string, string> = {}): Promise<Proc> {
  return startProc([path.join(REPO, "cli/run-ts.js"), path.join(REPO, "bench/lib", module)], { ...env, BENCH_DB: dbFile, WECHAT_API_BASE: wechatBase });
}

/** A database with `count` registered users of the demo mini program (openId = prefix + index). */
export async function seedDatabase(file: string, count: number, prefix: string): Promise<number> {
  const started = Date.now();
  const store = await openSqliteStore({ file });
  try {
    await store.seedUsers({ appId: BENCH_APP.appId, count, openIdPrefix: prefix, corp: { corpId: "demo-corp", corpName: "Demo Corp" } });
  } finally {
    await store.close();
  }
  return Date.now() - started;
}

export interface LoadResult {
  requests: number;
  rps: number;
  p50: number;
  p99: number;
  mean: number;
  failures: number;
  /** CPU the serving process spent per request (robust to a busy machine, unlike req/s). */
  cpuMsPerRequest: number;
  /** Of which on its main thread: when that thread is saturated, it sets the req/s. */
  mainThreadMsPerRequest: number;
}

/** Sends one request per code (each code is single use), `connections` at a time. */
export async function runLoad(url: string, codes: string[], connections: number, expect: string, server?: Proc): Promise<LoadResult> {
  let next = 0;
  const cpuBefore = server?.cpuMs() ?? NaN;
  const mainBefore = server?.mainThreadCpuMs() ?? NaN;
  const started = performance.now();
  let last = started;
  const run = autocannon({
    url: `${url}${LOGIN_PATH}`,
    method: "POST",
    connections,
    amount: codes.length,
    timeout: 30,
    headers: { "content-type": "application/json" },
    requests: [
      {
        method: "POST",
        setupRequest: (request) => ({ ...request, body: JSON.stringify({ code: codes[next++ % codes.length] }) }),
      },
    ],
    verifyBody: (body) => body.includes(expect),
  });
  run.on("response", () => {
    last = performance.now();
  });
  const result = await run;
  const requests = result["2xx"] + result.non2xx;
  return {
    requests,
    // Not autocannon's figures: with `amount` it stops on its next 1-second tick, so its
    // duration (and any rate from it) is rounded up to whole seconds. Time to the last answer.
    rps: requests / ((last - started) / 1000),
    p50: result.latency.p50,
    p99: result.latency.p99,
    mean: result.latency.mean,
    failures: result.non2xx + result.errors + result.timeouts + result.mismatches,
    cpuMsPerRequest: ((server?.cpuMs() ?? NaN) - cpuBefore) / Math.max(requests, 1),
    mainThreadMsPerRequest: ((server?.mainThreadCpuMs() ?? NaN) - mainBefore) / Math.max(requests, 1),
  };
}

export function printTable(rows: Array<Array<string | number>>): void {
  const text = rows.map((r) => r.map((c) => (typeof c === "number" ? c.toLocaleString("en-US", { maximumFractionDigits: 2 }) : c)));
  const widths = text[0]!.map((_, i) => Math.max(...text.map((r) => r[i]!.length)));
  for (const [i, r] of text.entries()) {
    console.log(r.map((c, j) => c.padEnd(widths[j]!)).join("  "));
    if (i === 0) console.log(widths.map((w) => "-".repeat(w)).join("  "));
  }
}

export function writeResult(name: string, data: unknown): string {
  const dir = path.join(REPO, "bench", "results");
  mkdirSync(dir, { recursive: true });
  const file = path.join(dir, `${name}.json`);
  writeFileSync(file, `${JSON.stringify({ at: new Date().toISOString(), node: process.version, ...(data as object) }, null, 2)}\n`);
  return file;
}

/** One getLoginCode over a keep-alive connection; returns its latency in ms (hrtime). */
export function timedLogin(agent: http.Agent, url: string, code: string, expect: string): Promise<number> {
  const body = JSON.stringify({ code });
  const started = process.hrtime.bigint();
  return new Promise((resolve, reject) => {
    const req = http.request(`${url}${LOGIN_PATH}`, { method: "POST", agent, headers: { "content-type": "application/json", "content-length": Buffer.byteLength(body) } }, (res) => {
      let text = "";
      res.setEncoding("utf8");
      res.on("data", (c: string) => (text += c));
      res.on("end", () => {
        if (res.statusCode !== 200 || !text.includes(expect)) reject(new Error(`getLoginCode answered ${res.statusCode}: ${text.slice(0, 200)}`));
        else resolve(Number(process.hrtime.bigint() - started) / 1e6);
      });
    });
    req.on("error", reject);
    req.end(body);
  });
}

export function percentile(sorted: number[], p: number): number {
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
