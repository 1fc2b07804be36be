// Prints the figures every part of the reliability suite wrote (results/*.json) as one table.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const dir = path.join(path.dirname(fileURLToPath(import.meta.url)), "results");
const ORDER = ["fuzz", "vault", "canary", "shutdown", "slowloris", "crash"];
let files = [];
try {
  files = readdirSync(dir).filter((f) => f.endsWith(".json"));
} catch {
  console.log("no reliability results yet: run npm run reliability");
  process.exit(0);
}
const runs = files.map((f) => JSON.parse(readFileSync(path.join(dir, f), "utf8")));
runs.sort((a, b) => ORDER.indexOf(a.part) - ORDER.indexOf(b.part));
console.log("| part | tried | held | ok | scale | measured |");
console.log("| --- | --- | --- | --- | --- | --- |");
let failed = 0;
for (const run of runs) {
  for (const f of run.figures) {
    if (!f.ok) failed++;
    console.log(`| ${f.part} | ${f.tried} | ${f.held} | ${f.ok ? "✔" : "✘"} | ${run.scale} | ${run.measuredAt.slice(0, 10)} |`);
  }
}
process.exitCode = failed > 0 ? 1 : 0;
