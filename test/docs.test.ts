import { execFile, spawn } from "node:child_process";
import { existsSync, readFileSync } from "node:fs";
import { cp, mkdir, mkdtemp, readFile, rm, writeFile } from "node:fs/promises";
import net from "node:net";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createWxShim } from "jit-runtime/miniprogram";
import { loadMiniProgram } from "jit-runtime/testing";
import { REPO, TEST_MASTER_KEY } from "./helpers/http.ts";
import { startChild, type Child } from "./helpers/httpChild.ts";
import { docPages, isShell, labelProblem, npmScripts, pageScript, readBlocks, setupFolder, type Block } from "./helpers/docBlocks.ts";
import { installPacked, packOnce, type PackedPackage } from "./helpers/packedPackage.ts";

/*
 * Every code block of README.md and docs/*.md runs as written (the labelling convention is in
 * helpers/docBlocks.ts and docs/doc-tests.md). A page runs as a reader runs it: in a folder
 * made by `npm init -y` (a CommonJS folder) with the packed package installed, from its own
 * `setup` block, or else in the folder `npx jit init shop --miniprogram` leaves there. Its
 * shell blocks run in one bash, in order, with its files written between them; servers it
 * starts in the background are stopped at the end. The pages' ports (8080, 8081) are used as
 * written, so the pages run one after another.
 */

const run = promisify(execFile);
const pkg = JSON.parse(readFileSync(path.join(REPO, "package.json"), "utf8")) as { version: string; scripts: Record<string, string> };
const pages = docPages(REPO);
const blocksOf = new Map(pages.map((page) => [page, readBlocks(REPO, page)]));
const PAGE_PORTS = [8080, 8081];

let work: string;
let packed: PackedPackage;
let base: string; // npm init -y + the tarball installed: what every page's folder starts as

/** A reader's shell: their PATH (this Node first), HOME and locale, none of the test's JIT_ or WECHAT_ settings. */
function readerEnv(): NodeJS.ProcessEnv {
  const keep = ["HOME", "USER", "LANG", "TMPDIR", "TERM"];
  const env: NodeJS.ProcessEnv = Object.fromEntries(keep.filter((k) => process.env[k] !== undefined).map((k) => [k, process.env[k]]));
  env.PATH = `${path.dirname(process.execPath)}${path.delimiter}${process.env.PATH ?? ""}`;
  return env;
}

async function portFree(port: number): Promise<boolean> {
  return new Promise((resolve) => {
    const server = net.createServer();
    server.once("error", () => resolve(false));
    server.listen(port, "127.0.0.1", () => server.close(() => resolve(true)));
  });
}

async function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = net.createServer();
    server.once("error", reject);
    server.listen(0, "127.0.0.1", () => {
      const { port } = server.address() as net.AddressInfo;
      server.close(() => resolve(port));
    });
  });
}

/** Runs a bash script in `cwd` as its own process group; the whole group is killed on timeout. */
function bash(script: string, cwd: string, env: NodeJS.ProcessEnv, timeoutMs: number): Promise<{ code: number | null; output: string }> {
  return new Promise((resolve) => {
    const child = spawn("bash", ["-c", script], { cwd, env, detached: true, stdio: ["ignore", "pipe", "pipe"] });
    let output = "";
    child.stdout.on("data", (c: Buffer) => (output += c.toString("utf8")));
    child.stderr.on("data", (c: Buffer) => (output += c.toString("utf8")));
    const timer = setTimeout(() => {
      output += `\n[doc-test] timed out after ${timeoutMs} ms\n`;
      try {
        process.kill(-child.pid!, "SIGKILL");
      } catch {
        // already gone
      }
    }, timeoutMs);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, output });
    });
  });
}

/** A folder for `page`: `<dir>` when the page has its own setup block, else `<dir>/shop` after `jit init shop --miniprogram`. */
async function folderFor(page: string, blocks: Block[]): Promise<{ cwd: string; setupName: string | null }> {
  const dir = path.join(work, page.replace(/[/.]/g, "_"));
  await mkdir(dir);
  const setup = blocks.find((b) => b.marker?.kind === "setup");
  const name = setup ? setupFolder(setup, packed.version) : "shop";
  const project = path.join(dir, name);
  await cp(base, project, { recursive: true, verbatimSymlinks: true });
  // What `npm init -y` in a folder of that name writes.
  const manifest = JSON.parse(await readFile(path.join(project, "package.json"), "utf8")) as { name: string };
  manifest.name = name;
  await writeFile(path.join(project, "package.json"), `${JSON.stringify(manifest, null, 2)}\n`);
  if (setup) return { cwd: dir, setupName: name };
  const init = await run(path.join(project, "node_modules", ".bin", "jit"), ["init", "shop", "--miniprogram"], { cwd: project, env: readerEnv(), timeout: 60_000 });
  expect(init.stdout).toContain("created miniprogram/app.js");
  return { cwd: project, setupName: null };
}

/**
 * tsc over a mini program's own JavaScript (app.js, config.js, its pages), checkJs with the
 * mini program's globals from miniprogram-api-typings (wx, App, Page, getApp) and the client
 * library's types through lib/jit-client.d.ts. Its errors, or "".
 */
async function typeCheckMiniProgram(project: string): Promise<string> {
  const dir = path.join(project, "miniprogram");
  const appJson = JSON.parse(await readFile(path.join(dir, "app.json"), "utf8")) as { pages: string[] };
  const files = ["app.js", "config.js", ...appJson.pages.map((p) => `${p}.js`)];
  const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
  const options = ["--noEmit", "--allowJs", "--checkJs", "--strict", "--skipLibCheck", "--target", "es2017", "--lib", "es2017", "--module", "preserve", "--moduleResolution", "bundler"];
  const globals = ["--typeRoots", path.join(REPO, "node_modules"), "--types", "miniprogram-api-typings"];
  return run(process.execPath, [tsc, ...options, ...globals, ...files], { cwd: dir, timeout: 120_000 }).then(
    () => "",
    (err: { stdout?: string }) => err.stdout ?? "tsc failed",
  );
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "jit-docs-"));
  packed = await packOnce();
  base = path.join(work, "base");
  await mkdir(base);
  await run("npm", ["init", "-y"], { cwd: base, timeout: 60_000 });
  // The setup blocks install ../jit-runtime-<version>.tgz: the tarball sits beside each page's folder.
  await installPacked(base, packed.tarball);
}, 600_000);

afterAll(async () => {
  if (work) await rm(work, { recursive: true, force: true });
});

describe("README and docs/: every page reachable, every block labelled", () => {
  it("README links every docs/ page", () => {
    const readme = readFileSync(path.join(REPO, "README.md"), "utf8");
    const linked = new Set([...readme.matchAll(/\]\((docs\/[\w-]+\.md)(?:#[\w-]*)?\)/g)].map((m) => m[1]!));
    expect(pages.filter((p) => p.startsWith("docs/") && !linked.has(p))).toEqual([]);
  });

  it("README stays a first read: at most 250 lines", () => {
    expect(readFileSync(path.join(REPO, "README.md"), "utf8").split("\n").length).toBeLessThanOrEqual(250);
  });

  it("every relative link points at a file, and every #anchor at a heading", () => {
    const slug = (heading: string) => heading.replace(/^#+\s*/, "").trim().toLowerCase().replace(/[^\w\- ]/g, "").replace(/ /g, "-");
    const anchorsOf = (file: string) => new Set(readFileSync(file, "utf8").split("\n").filter((l) => /^#{1,6} /.test(l)).map(slug));
    const broken: string[] = [];
    for (const page of pages) {
      const text = readFileSync(path.join(REPO, page), "utf8").replace(/```[\s\S]*?```/g, "");
      for (const m of text.matchAll(/\]\(([^)\s]+)\)/g)) {
        const target = m[1]!;
        if (/^[a-z]+:/.test(target)) continue;
        const [file, anchor] = target.split("#");
        const resolved = file ? path.resolve(path.dirname(path.join(REPO, page)), file) : path.join(REPO, page);
        if (!existsSync(resolved)) broken.push(`${page}: ${target} (no such file)`);
        else if (anchor && resolved.endsWith(".md") && !anchorsOf(resolved).has(anchor)) broken.push(`${page}: ${target} (no such heading)`);
      }
    }
    expect(broken).toEqual([]);
  });

  it("every block is an illustration, a file, a shell block, or labelled for the repository", () => {
    const problems = [...blocksOf.values()].flat().map(labelProblem).filter((p) => p !== null);
    expect(problems).toEqual([]);
  });

  it("blocks showing files of this repository match them", async () => {
    const stale: string[] = [];
    for (const block of [...blocksOf.values()].flat()) {
      if (block.marker?.kind !== "repo-file") continue;
      const actual = await readFile(path.join(REPO, block.marker.path), "utf8").catch(() => null);
      if (actual === null) stale.push(`${block.page}:${block.line}: ${block.marker.path} does not exist`);
      else if (actual.trimEnd() !== block.code.trimEnd()) stale.push(`${block.page}:${block.line}: differs from ${block.marker.path}`);
    }
    expect(stale).toEqual([]);
  });

  it("repository commands name npm scripts that exist", () => {
    const missing: string[] = [];
    for (const block of [...blocksOf.values()].flat()) {
      if (block.marker?.kind !== "repo") continue;
      for (const name of npmScripts(block)) if (!(name in pkg.scripts)) missing.push(`${block.page}:${block.line}: npm script "${name}"`);
    }
    expect(missing).toEqual([]);
  });
});

/** What a page's run must print, beyond exiting 0. */
const EXPECTED_OUTPUT: Record<string, RegExp[]> = {
  "README.md": [/^\d+$/m, /WeChatMiniType \[shop\]/, /"appId": ?"wx[0-9a-f]{16}"|appId: 'wx[0-9a-f]{16}'/],
  "docs/tutorial.md": [/"greeting": "Hello, Ada! \(from app hello\)"/, /LOGIN_REQUIRED/, /greeting: 'Hello, WeChat user! \(from app hello\)'/, /status: 'Logged in as user \d+'/],
  "docs/elements.md": [/^\d+ \{"userId":\d+/m],
  "docs/miniprogram.md": [/logged in as user \d+/, /unbound: the next login\(\) registers afresh/],
};

const runnable = pages.filter((page) =>
  blocksOf.get(page)!.some((b) => b.marker?.kind === "file" || b.marker?.kind === "setup" || b.marker?.kind === "long-running" || (!b.marker && isShell(b))),
);

describe.sequential("every page's blocks run as written, in a folder made by npm init -y", () => {
  it("has pages to run, the README and the tutorial among them", () => {
    expect(runnable).toEqual(expect.arrayContaining(["README.md", "docs/tutorial.md"]));
  });

  for (const page of runnable) {
    it(`${page}`, async () => {
      for (const port of PAGE_PORTS) expect(await portFree(port), `port ${port} is taken: ${page} serves on it as written`).toBe(true);
      const blocks = blocksOf.get(page)!;
      const { cwd, setupName } = await folderFor(page, blocks);
      if (setupName) await cp(packed.tarball, path.join(cwd, `jit-runtime-${packed.version}.tgz`));
      const project = setupName ? path.join(cwd, setupName) : cwd;
      const { code, output } = await bash(pageScript(blocks, setupName), cwd, readerEnv(), 240_000);
      expect(code, `${page} failed:\n${output.slice(-6000)}`).toBe(0);
      for (const pattern of EXPECTED_OUTPUT[page] ?? []) expect(output, `${page} printed:\n${output.slice(-6000)}`).toMatch(pattern);
      // The page's TypeScript files type-check against the installed package's types, as the
      // reader's own tsc would check them (tsx, which ran them, only strips the types).
      const tsFiles = blocks.flatMap((b) => (b.marker?.kind === "file" && /\.m?ts$/.test(b.marker.path) ? [b.marker.path] : []));
      if (tsFiles.length > 0) {
        const tsc = path.join(REPO, "node_modules", "typescript", "bin", "tsc");
        const options = ["--noEmit", "--strict", "--skipLibCheck", "--target", "es2022", "--module", "nodenext", "--moduleResolution", "nodenext", "--typeRoots", path.join(REPO, "node_modules", "@types"), "--types", "node"];
        const checked = await run(process.execPath, [tsc, ...options, ...tsFiles], { cwd: project, timeout: 120_000 }).then(
          () => "",
          (err: { stdout?: string }) => err.stdout ?? "tsc failed",
        );
        expect(checked, `${page}: tsc on ${tsFiles.join(", ")}`).toBe("");
      }
      if (existsSync(path.join(project, "miniprogram", "app.json"))) expect(await typeCheckMiniProgram(project), `${page}: the mini program type-checks`).toBe("");
      // The background servers were stopped with the page.
      for (const port of PAGE_PORTS) expect(await portFree(port), `port ${port} still taken after ${page}`).toBe(true);
    }, 300_000);
  }

  it("the demo walkthrough (docs/login-flow.md) runs against `npm start`", async () => {
    const blocks = [...blocksOf.values()].flat().filter((b) => b.marker?.kind === "demo");
    expect(blocks.length).toBeGreaterThan(0);
    for (const port of PAGE_PORTS) expect(await portFree(port), `port ${port} is taken`).toBe(true);
    const dataDir = path.join(work, "demo-data");
    await mkdir(dataDir);
    const demo: Child = startChild([path.join(REPO, pkg.scripts.start!.replace(/^node /, ""))], {
      PORT: "8080",
      FAKE_WECHAT_PORT: "8081",
      JIT_DB: path.join(dataDir, "demo.sqlite"),
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "warn",
    });
    try {
      await demo.waitFor(/Stop with Ctrl-C/, 90_000);
      for (const block of blocks) {
        const { code, output } = await bash(`set -euo pipefail\n${block.code}`, REPO, readerEnv(), 120_000);
        expect(code, `${block.page}:${block.line} failed:\n${output.slice(-6000)}`).toBe(0);
        // Every answer of the walkthrough is an envelope; the refusals are the ones the page names.
        expect(output).not.toMatch(/INTERNAL_ERROR|"code":"API_PARAMS_ERROR"/);
        expect(output).toMatch(/"token":"/);
        expect(output).toMatch(/WECHAT_CODE_USED/);
        expect(output).toMatch(/"success":true/);
      }
    } finally {
      demo.kill("SIGTERM");
      await demo.exited;
    }
  }, 300_000);
});

describe("jit init --miniprogram: the mini program's page logs in against a real jit serve", () => {
  it("project.config.json carries the instance's AppID; Log in and Who am I work through the client library", async () => {
    const project = path.join(work, "miniprogram-check", "shop");
    await cp(base, project, { recursive: true, verbatimSymlinks: true });
    const port = await freePort();
    const jit = path.join(project, "node_modules", ".bin", "jit");
    const env = { ...readerEnv(), WECHAT_APP_SECRET: "mini-program-test-secret" };
    const init = await run(jit, ["init", "shop", "--miniprogram", "--api-base", `http://127.0.0.1:${port}`], { cwd: project, env, timeout: 60_000 });
    expect(init.stdout).toContain("created miniprogram/project.config.json");
    const miniAppId = JSON.parse(await readFile(path.join(project, "apps/shop/elements/auths/loginTypes/shopLogin/shopLogin.json"), "utf8")).authConfig.appId as string;
    const projectConfig = JSON.parse(await readFile(path.join(project, "miniprogram/project.config.json"), "utf8")) as { appid: string; miniprogramRoot: string };
    expect(projectConfig.appid).toBe(miniAppId);
    const appJson = JSON.parse(await readFile(path.join(project, "miniprogram", projectConfig.miniprogramRoot, "app.json"), "utf8")) as { pages: string[] };
    for (const page of appJson.pages) for (const ext of [".js", ".wxml", ".json"]) expect(existsSync(path.join(project, "miniprogram", `${page}${ext}`)), `${page}${ext}`).toBe(true);
    expect(await typeCheckMiniProgram(project)).toBe("");
    const wxml = await readFile(path.join(project, "miniprogram/pages/index/index.wxml"), "utf8");
    expect(wxml).toContain("Log in with WeChat");
    expect(wxml).toContain("Who am I");

    const fake = startChild([jit, "--app", "shop", "wechat-fake", "--port", "0"], env, project);
    let served: Child | undefined;
    try {
      const [, fakeUrl] = await fake.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
      served = startChild([jit, "--app", "shop", "serve", "--port", String(port)], { ...env, JIT_MASTER_KEY: TEST_MASTER_KEY, WECHAT_API_BASE: fakeUrl! }, project);
      await served.waitFor(/listening on/, 60_000);
      const wx = createWxShim({
        mintCode: async () => {
          const res = await fetch(`${fakeUrl}/__fake/codes`, { method: "POST", body: JSON.stringify({ appId: miniAppId, openId: "mini-program-user" }) });
          return ((await res.json()) as { code: string }).code;
        },
      });
      const page = loadMiniProgram({ dir: path.join(project, "miniprogram"), wx }).page("pages/index/index");
      expect(page.data).toMatchObject({ status: "Not logged in", error: "" });
      await (page.login as () => Promise<void>)();
      const userId = Number(/^Logged in as user (\d+)$/.exec(String(page.data.status))?.[1]);
      expect(userId, JSON.stringify(page.data)).toBeGreaterThan(0);
      expect(wx.storage.get("jit-runtime.session")).toMatchObject({ userId, token: expect.any(String) });
      await (page.whoAmI as () => Promise<void>)();
      expect(page.data).toMatchObject({ me: `user ${userId}`, error: "" });

      // The server gone: the page shows the client's error instead of failing.
      served.kill("SIGTERM");
      await served.exited;
      wx.storage.clear();
      await (page.login as () => Promise<void>)();
      expect(page.data.error).toMatch(/^NETWORK_ERROR: /);
    } finally {
      fake.kill("SIGKILL");
      served?.kill("SIGKILL");
      await Promise.all([fake.exited, served?.exited]);
    }
  }, 180_000);
});
