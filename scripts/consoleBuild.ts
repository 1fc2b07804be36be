/**
 * Builds what runs outside Node. First, the mini-program client as one CommonJS file for
 * WeChat's npm build (package.json `miniprogram` → runtime/miniprogram/dist/index.js; ES2017,
 * no Node or browser globals). Then the console's browser assets: runtime/http/console/ui/*.ts bundled by esbuild (no
 * framework) into ui/dist/app.js, beside app.css and index.html. Run by `npm run
 * build:console` (and `prepare`, so an install from git has them); the package ships dist.
 */
import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { build } from "esbuild";

const RUNTIME = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../runtime");
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

export async function buildConsole(outDir = path.join(UI, "dist")): Promise<string> {
  await buildWeapp();
  await mkdir(outDir, { recursive: true });
  await build({
    entryPoints: [path.join(UI, "main.ts")],
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

