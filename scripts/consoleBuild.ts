/**
 * Builds what runs outside Node. First, the mini-program client as one CommonJS file for
 * WeChat's npm build (package.json `miniprogram` → runtime/miniprogram/dist/index.js; ES2017,
 * no Node or browser globals). Then the console's browser assets: its shell
 * (runtime/http/console/ui) and the tabs of every platform family (a module
 * `console/ui/index.ts` beside a Meta that has a family module) bundled by esbuild (no
 * framework) into ui/dist/app.js, beside app.css and index.html. Run by `npm run
 * build:console` (and `prepare`, so an install from git has them); the package ships dist.
 */
import { existsSync, readdirSync } from "node:fs";
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const RUNTIME = path.join(REPO, "runtime");
const ELEMENTS = path.join(REPO, "elements");
const FAMILY_FILES = ["family.ts", "family.mts", "family.js", "family.mjs"];
const UI = path.join(RUNTIME, "http/console/ui");
export const WEAPP_BUNDLE = path.join(RUNTIME, "miniprogram/dist/index.js");

export async function buildWeapp(outfile = WEAPP_BUNDLE): Promise<string> {
  await build({
    entryPoints: [path.join(RUNTIME, "miniprogram/weapp.ts")],
    outfile,
    bundle: true,
    format: "cjs",
    platform: "neutral",
    target: "es2017",
    minify: false,
    legalComments: "none",
    logLevel: "warning",
  });
  return outfile;
}

/** The console tab modules of the platform families, in fullName order. */
export function familyConsoleModules(dir = ELEMENTS): string[] {
  const out: string[] = [];
  const names = readdirSync(dir, { withFileTypes: true });
  const files = new Set(names.filter((e) => e.isFile()).map((e) => e.name));
  const tabs = path.join(dir, "console", "ui", "index.ts");
  if (files.has("e.json") && FAMILY_FILES.some((f) => files.has(f)) && existsSync(tabs)) out.push(tabs);
  for (const e of names.sort((a, b) => (a.name < b.name ? -1 : 1))) if (e.isDirectory() && e.name !== "console") out.push(...familyConsoleModules(path.join(dir, e.name)));
  return out;
}

export async function buildConsole(outDir = path.join(UI, "dist")): Promise<string> {
  await buildWeapp();
  await mkdir(outDir, { recursive: true });
  const families = familyConsoleModules();
  const entry = [
    `import { startConsole } from ${JSON.stringify(path.join(UI, "main.ts"))};`,
    ...families.map((file, i) => `import tabs${i} from ${JSON.stringify(file)};`),
    `startConsole([${families.map((_, i) => `tabs${i}`).join(", ")}]);`,
  ].join("\n");
  await build({
    stdin: { contents: entry, resolveDir: REPO, sourcefile: "console-entry.ts", loader: "ts" },
    outfile: path.join(outDir, "app.js"),
    bundle: true,
    format: "esm",
    platform: "browser",
    target: "es2022",
    minify: true,
    sourcemap: false,
    legalComments: "none",
    logLevel: "warning",
  });
  await copyFile(path.join(UI, "styles.css"), path.join(outDir, "app.css"));
  await copyFile(path.join(UI, "index.html"), path.join(outDir, "index.html"));
  return outDir;
}

