/**
 * `npm run bench`: every benchmark, one after another, each in its own process (so one's
 * heap and JIT state do not colour the next). Each is also runnable alone:
 * node cli/run-ts.js bench/<name>.ts
 */
import { spawnSync } from "node:child_process";
import { existsSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const here = path.dirname(fileURLToPath(import.meta.url));
const benches = ["startup.ts", "registry.ts", "wechatCall.ts", "login.ts", "scale.ts", "cluster.ts", "models.ts"].filter((name) => existsSync(path.join(here, name)));
const failed: string[] = [];
for (const name of benches) {
  console.log(`\n=== bench/${name}`);
  const started = Date.now();
  const run = spawnSync(process.execPath, [path.join(here, "..", "cli", "run-ts.js"), path.join(here, name)], { stdio: "inherit" });
  console.log(`=== bench/${name}: ${run.status === 0 ? "done" : `FAILED (${run.status ?? run.signal})`} in ${((Date.now() - started) / 1000).toFixed(0)} s`);
  if (run.status !== 0) failed.push(name);
}
console.log(`\nresults: bench/results/*.json${failed.length ? `; failed: ${failed.join(", ")}` : ""}`);
process.exitCode = failed.length ? 1 : 0;
