import { execFile } from "node:child_process";
import { existsSync } from "node:fs";
import { cp, mkdir, readdir, readFile, rm, stat, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { inject } from "vitest";
import { REPO } from "./http.ts";

const run = promisify(execFile);

export interface PackedPackage {
  tarball: string;
  /** The tarball's file list. */
  files: string[];
  version: string;
}

/**
 * `npm pack` of this repository, once per test run however many files ask: `npm pack` runs
 * prepare, which deletes and rebuilds dist/, so two packs at once would pack each other's
 * half-built dist/. The first caller packs under a lock; the others wait for its tarball.
 */
export async function packOnce(): Promise<PackedPackage> {
  const runId = inject("testRunId");
  const cache = path.join(os.tmpdir(), `jit-pack-${Buffer.from(REPO).toString("base64url").slice(-24)}`);
  const dir = path.join(cache, runId);
  const report = path.join(dir, "pack.json");
  const lock = path.join(cache, "lock");
  await mkdir(cache, { recursive: true });
  const deadline = Date.now() + 600_000;
  for (;;) {
    if (existsSync(report)) return JSON.parse(await readFile(report, "utf8")) as PackedPackage;
    try {
      await mkdir(lock);
    } catch {
      // Someone packs; a lock left by a run that died is broken after 10 minutes.
      const age = Date.now() - (await stat(lock).then((s) => s.mtimeMs, () => Date.now()));
      if (age > 600_000) await rm(lock, { recursive: true, force: true });
      if (Date.now() > deadline) throw new Error(`waited 10 minutes for ${lock}`);
      await new Promise((resolve) => setTimeout(resolve, 500));
      continue;
    }
    try {
      if (existsSync(report)) continue;
      await removeOldRuns(cache, runId);
      await mkdir(dir, { recursive: true });
      const { stdout } = await run("npm", ["pack", "--json", "--pack-destination", dir], { cwd: REPO, timeout: 300_000, maxBuffer: 16 * 1024 * 1024 });
      const [out] = JSON.parse(stdout.slice(stdout.indexOf("\n[") + 1)) as Array<{ filename: string; version: string; files: Array<{ path: string }> }>;
      const packed: PackedPackage = { tarball: path.join(dir, out!.filename), files: out!.files.map((f) => f.path), version: out!.version };
      await writeFile(report, JSON.stringify(packed));
      return packed;
    } finally {
      await rm(lock, { recursive: true, force: true });
    }
  }
}

async function removeOldRuns(cache: string, keep: string): Promise<void> {
  for (const name of await readdir(cache)) {
    if (name === keep || name === "lock") continue;
    const age = Date.now() - (await stat(path.join(cache, name))).mtimeMs;
    if (age > 3_600_000) await rm(path.join(cache, name), { recursive: true, force: true });
  }
}

/**
 * Installs the tarball into `project` (an existing folder with a package.json) as a user's
 * `npm install <tarball>` does, except that install scripts are skipped: better-sqlite3 would
 * compile its addon from source (no prebuilt binary can be downloaded here), which takes
 * minutes; the addon this repository built (same version, same Node) is copied in instead,
 * and another version is rebuilt.
 */
export async function installPacked(project: string, tarball: string, spec = tarball): Promise<void> {
  await run("npm", ["install", "--prefer-offline", "--ignore-scripts", "--no-audit", "--no-fund", spec], { cwd: project, timeout: 300_000 });
  const version = async (dir: string) => (JSON.parse(await readFile(path.join(dir, "package.json"), "utf8")) as { version: string }).version;
  const ours = path.join(REPO, "node_modules", "better-sqlite3");
  const theirs = path.join(project, "node_modules", "better-sqlite3");
  const addon = path.join("build", "Release", "better_sqlite3.node");
  if ((await version(ours)) === (await version(theirs)) && existsSync(path.join(ours, addon))) {
    await mkdir(path.join(theirs, "build", "Release"), { recursive: true });
    await cp(path.join(ours, addon), path.join(theirs, addon));
  } else {
    await run("npm", ["rebuild", "better-sqlite3"], { cwd: project, timeout: 600_000 });
  }
}
