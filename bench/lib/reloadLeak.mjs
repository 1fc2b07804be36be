// The memory half of bench/reload.ts, run as `node --expose-gc bench/lib/reloadLeak.mjs <root> <reloads>`
// against the compiled runtime (dist/), as `jit dev` runs it: the app served, then reloaded
// <reloads> times after a saved config and <reloads> times after a saved module (new content
// each time), one request answered by each version. Each reading follows 15 s idle (as a
// developer's server is between saves: V8 returns heap it no longer needs when idle) and a
// full GC, so the figures are what stays alive, not garbage or heap not yet given back.
// Prints one JSON line.
import { writeFileSync } from "node:fs";
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
  const { rss, heapUsed } = process.memoryUsage();
  return { rssMb: rss / 2 ** 20, heapMb: heapUsed / 2 ** 20 };
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

await reload("greeter.json", JSON.stringify({ greeting: "first" }), "m0: first");
const first = await reading();
for (let i = 0; i < reloads; i++) await reload("greeter.json", JSON.stringify({ greeting: `c${i}` }), `m0: c${i}`);
const afterConfigs = await reading();
for (let i = 0; i < reloads; i++) await reload("index.ts", moduleText(`m${i + 1}`), `m${i + 1}: c${reloads - 1}`);
const afterModules = await reading();
await serving.stop();
process.stdout.write(`${JSON.stringify({ first, afterConfigs, afterModules })}\n`);
