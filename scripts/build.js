#!/usr/bin/env node
// `npm run build` (also on `prepare`): the package's dist/ from scratch. tsc compiles
// runtime/, elements/, cli/ and testing/ to JavaScript with .d.ts (tsconfig.build.json), then
// the platform elements' declarations, schemas and data (every .json and .txt under elements/) are copied
// beside their compiled code, where the runtime finds its platform layer. dist/ is removed
// first so a deleted source leaves no module behind in the tarball.
import { execFileSync } from "node:child_process";
import { cpSync, rmSync, statSync } from "node:fs";
import { createRequire } from "node:module";
import path from "node:path";
import { fileURLToPath } from "node:url";

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const dist = path.join(root, "dist");
rmSync(dist, { recursive: true, force: true });
const tsc = createRequire(import.meta.url).resolve("typescript/bin/tsc");
execFileSync(process.execPath, [tsc, "-p", path.join(root, "tsconfig.build.json")], { stdio: "inherit", cwd: root });
cpSync(path.join(root, "elements"), path.join(dist, "elements"), {
  recursive: true,
  // .txt: data files an element reads at run time (PasswordType's common-password list)
  filter: (src) => src.endsWith(".json") || src.endsWith(".txt") || statSync(src).isDirectory(),
});
// What runs outside Node, bundled by esbuild (scripts/consoleBuild.ts): the console's browser
// assets and the mini-program client as one CommonJS file (package.json `miniprogram`). Built
// beside their sources (where the repository's source mode reads them), then copied to where
// the compiled modules look for them.
execFileSync(process.execPath, [path.join(root, "cli", "run-ts.js"), path.join(root, "scripts", "build-console.ts")], { stdio: "inherit", cwd: root });
for (const dir of ["runtime/http/console/ui/dist", "runtime/miniprogram/dist"]) {
  cpSync(path.join(root, dir), path.join(dist, dir), { recursive: true });
}
