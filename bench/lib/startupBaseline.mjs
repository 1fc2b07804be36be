// The start-up benchmark's baseline: a bare Node script that does by hand what
// `jit --app demo elements` shows, without the runtime: walk the app's and the platform's
// element folders, read and JSON.parse every e.json, print one line per element.
import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

const rows = [];
function walk(dir, rel, layer) {
  const entries = readdirSync(dir, { withFileTypes: true });
  if (rel && entries.some((e) => e.isFile() && e.name === "e.json")) {
    const decl = JSON.parse(readFileSync(path.join(dir, "e.json"), "utf8"));
    rows.push(`${rel}  ${decl.type || "-"}  ${layer}`);
  }
  for (const e of entries) if (e.isDirectory()) walk(path.join(dir, e.name), rel ? `${rel}.${e.name}` : e.name, layer);
}
const [appDir, platformDir] = process.argv.slice(2);
JSON.parse(readFileSync(path.join(appDir, "app.json"), "utf8"));
walk(path.join(appDir, "elements"), "", path.basename(appDir));
walk(platformDir, "", "platform");
process.stdout.write(`${rows.sort().join("\n")}\n`);
