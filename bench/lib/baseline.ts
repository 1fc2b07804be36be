import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The floor loadApp is measured against: walk the same folders and read + JSON.parse every
 * .json file (e.json, business config, schemas, app.json) with the same (synchronous) fs
 * calls. Nothing else: no validation, no resolution, no code import.
 */
export function baselineLoad(root: string): number {
  let parsed = 0;
  const visit = (dir: string): void => {
    for (const entry of readdirSync(dir, { withFileTypes: true })) {
      const full = dir + path.sep + entry.name;
      if (entry.isDirectory()) visit(full);
      else if (entry.name.endsWith(".json")) {
        JSON.parse(readFileSync(full, "utf8"));
        parsed++;
      }
    }
  };
  visit(path.join(root, "elements"));
  visit(path.join(root, "apps"));
  return parsed;
}
