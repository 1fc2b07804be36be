/**
 * What one WeChat call costs the serving process: `jscode2session` through the login family's
 * client (createWeChatHttp: undici, a deadline per call, the answer parsed and its errcode
 * checked) against the same call written by hand on node:http (a keep-alive agent, the same
 * query, a timeout, the body read and parsed), 32 calls in flight, rounds interleaved. The
 * fake WeChat server answers from its own process, so the CPU measured here (this process's
 * user + system time) is the client's alone.
 * Run: node cli/run-ts.js bench/wechatCall.ts
 * Knobs: BENCH_CALLS (per round, default 20,000), BENCH_ROUNDS (default 3).
 */
import http from "node:http";
import { performance } from "node:perf_hooks";
import os from "node:os";
import path from "node:path";
import { createWeChatHttp } from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";
import { BENCH_APP, envInt, startProc, writeResult } from "./lib/loginHarness.ts";
import { median } from "./lib/median.ts";

const CALLS = envInt("BENCH_CALLS", 20_000);
const ROUNDS = envInt("BENCH_ROUNDS", 3);
const IN_FLIGHT = 32;

// Every call gets the same session answer (bench/lib/wechatEcho.ts): the work measured is the client's.
const fake = await startProc([path.join(import.meta.dirname, "..", "cli", "run-ts.js"), path.join(import.meta.dirname, "lib", "wechatEcho.ts")], {});
const query = { appid: BENCH_APP.appId, secret: BENCH_APP.appSecret, js_code: "bench-code", grant_type: "authorization_code" };

const family = createWeChatHttp(fake.url, 5000);
const familyCall = () => family("sns/jscode2session", { searchParams: query, errcodes: () => "WECHAT_UNAVAILABLE" });

const agent = new http.Agent({ keepAlive: true });
const handUrl = `${fake.url}/sns/jscode2session?${new URLSearchParams(query)}`;
const handCall = () =>
  new Promise<unknown>((resolve, reject) => {
    const request = http.get(handUrl, { agent, timeout: 5000 }, (response) => {
      let body = "";
      response.setEncoding("utf8");
      response.on("data", (chunk: string) => (body += chunk));
      response.on("end", () => {
        try {
          resolve(JSON.parse(body));
        } catch (err) {
          reject(err);
        }
      });
      response.on("error", reject);
    });
    request.on("timeout", () => request.destroy(new Error("timeout")));
    request.on("error", reject);
  });

async function round(call: () => Promise<unknown>, calls: number): Promise<{ cpuMicros: number; callsPerSecond: number }> {
  let started = 0;
  const cpu = process.cpuUsage();
  const t = performance.now();
  await Promise.all(
    Array.from({ length: IN_FLIGHT }, async () => {
      while (started++ < calls) await call();
    }),
  );
  const used = process.cpuUsage(cpu);
  return { cpuMicros: (used.user + used.system) / calls, callsPerSecond: calls / ((performance.now() - t) / 1000) };
}

const targets = { "node:http by hand": handCall, "createWeChatHttp (undici)": familyCall };
const results: Record<string, Array<{ cpuMicros: number; callsPerSecond: number }>> = {};
try {
  for (const [name, call] of Object.entries(targets)) {
    await round(call, 2_000); // warm-up: connections open, code optimised
    results[name] = [];
  }
  for (let r = 0; r < ROUNDS; r++) for (const [name, call] of Object.entries(targets)) results[name]!.push(await round(call, CALLS));
} finally {
  agent.destroy();
  await fake.stop();
}

console.log(`WeChat call, ${CALLS.toLocaleString("en-US")} calls × ${ROUNDS} rounds, ${IN_FLIGHT} in flight (${os.cpus().length} cores)`);
for (const [name, runs] of Object.entries(results)) {
  console.log(`${name.padEnd(28)} client CPU ${median(runs.map((r) => r.cpuMicros)).toFixed(1).padStart(6)} µs/call  ${median(runs.map((r) => r.callsPerSecond)).toFixed(0).padStart(7)} calls/s`);
}
const ratio = median(results["createWeChatHttp (undici)"]!.map((r) => r.cpuMicros)) / median(results["node:http by hand"]!.map((r) => r.cpuMicros));
console.log(`client CPU per call, createWeChatHttp / node:http by hand: ${ratio.toFixed(2)}×`);
console.log(`results in ${writeResult("wechatCall", { calls: CALLS, rounds: ROUNDS, inFlight: IN_FLIGHT, cpus: os.cpus().length, ratio, results })}`);
