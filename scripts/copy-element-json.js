#!/usr/bin/env node
// Part of `npm run build`: the platform elements' declarations and schemas (every .json
// under elements/) next to their compiled code in dist/elements/, where the package's
// runtime finds its platform layer.
import { cpSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
cpSync(path.join(root, "elements"), path.join(root, "dist", "elements"), {
  recursive: true,
  filter: (src) => src.endsWith(".json") || statSync(src).isDirectory(),
});
