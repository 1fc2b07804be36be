// The memory half of bench/reload.ts, run as `node --expose-gc bench/lib/reloadLeak.mjs <root> <reloads>`
// against the compiled runtime (dist/), as `jit dev` runs it: the app served, then reloaded
// <reloads> times after a saved config and <reloads> times after a saved module (new content
// each time), one request answered by each version. Readings after reload 1, 50, 100, 200, …
// of each kind (up to <reloads>), each after BENCH_IDLE_MS idle (default 15 s, as a
// developer's server is between saves: V8 returns heap it no longer needs when idle) and a
// full GC, so the figures are what stays alive, not garbage or heap not yet given back: a
// plateau is warm-up, a steady slope is what each reload keeps. BENCH_SNAPSHOTS=<dir> also
// writes heap snapshots after config reloads 100 and 200 (compare them in Chrome DevTools).
// Prints one JSON line.
import { writeFileSync } from "node:fs";
import { writeHeapSnapshot } from "node:v8";
import path from "node:path";
import { fileURLToPath } from "node:url";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
const dist = (rel) => import(path.join(repo, "dist", rel));
const [{ loadApp }, { serveApp }, { Reloader }] = await Promise.all([
  dist("runtime/app/loadApp.js"),
  dist("runtime/http/listen.js"),
  dist("runtime/dev/reloader.js"),
]);

const [root, reloadsText] = process.argv.slice(2);
const reloads = Number(reloadsText);
const greeter = path.join(root, "apps/demo/elements/shop/greeter");
const env = { ...process.env, JIT_RATE_LIMIT_IP: "off" };
const load = (appId) => loadApp({ root, appId, env, reloadable: true });
const app = await load("demo");
const serving = await serveApp({ apps: [app], port: 0, host: "127.0.0.1", env, logger: false, handleSignals: false, purgeIntervalMs: 0 });
let failed = null;
const reloader = new Reloader({
  apps: [app],
  load,
  replace: (next) => serving.replace(next),
  report: (event) => {
    if (event.kind === "refused") failed = event.problems;
  },
});
const hello = async () => ((await (await fetch(`${serving.url}/api/demo/shop/greeter/hello`, { method: "POST" })).json()).data);
const reading = async () => {
  await new Promise((resolve) => setTimeout(resolve, Number(process.env.BENCH_IDLE_MS ?? 15_000)));
  globalThis.gc();
  globalThis.gc();
  const { rss, heapUsed, heapTotal, external } = process.memoryUsage();
  return { rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20, heapTotalMb: heapTotal / 2 ** 20, externalMb: external / 2 ** 20 };
};
const moduleText = (mark) => `export default (Parent: any) => class extends Parent {
  hello(): string { return ${JSON.stringify(mark)} + ": " + String(this.config.greeting); }
};
`;
const reload = async (file, content, expected) => {
  writeFileSync(path.join(greeter, file), content);
  await reloader.reload("demo");
  if (failed) throw new Error(JSON.stringify(failed));
  const answer = await hello();
  if (answer !== expected) throw new Error(`expected ${expected}, got ${answer}`);
};

const checkpoints = new Set([1, 50, 100, 200, 400, 800].filter((n) => n < reloads).concat([reloads]));
const snapshots = process.env.BENCH_SNAPSHOTS;
const configs = {};
for (let i = 1; i <= reloads; i++) {
  await reload("greeter.json", JSON.stringify({ greeting: `c${i}` }), `m0: c${i}`);
  if (checkpoints.has(i)) configs[i] = await reading();
  if (snapshots && (i === 100 || i === 200)) writeHeapSnapshot(path.join(snapshots, `config-${i}.heapsnapshot`));
}
const modules = {};
for (let i = 1; i <= reloads; i++) {
  await reload("index.ts", moduleText(`m${i}`), `m${i}: c${reloads}`);
  if (checkpoints.has(i)) modules[i] = await reading();
}
await serving.stop();
// first/afterConfigs/afterModules: the readings bench/reload.ts has always printed.
process.stdout.write(`${JSON.stringify({ first: configs[1], afterConfigs: configs[reloads], afterModules: modules[reloads], configs, modules })}\n`);
