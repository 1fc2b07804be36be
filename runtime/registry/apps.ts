import { readdir, stat } from "node:fs/promises";
import path from "node:path";
import { CliError, DeclarationError, problem, type Problem } from "../errors/index.ts";
import { describeAjvError, validateApp } from "../validation/schemas.ts";
import { readJsonFile } from "./walk.ts";

export interface AppManifest {
  appId: string;
  title: string;
  version?: string;
  extends: string[];
  /** The database element the app keeps its data in by default (app.json `defaultDatabase`), when it names one. */
  defaultDatabase?: string;
  dir: string;
  file: string;
}

/** App ids under `<root>/apps/` (folders holding an app.json), sorted. */
export async function listAppIds(root: string): Promise<string[]> {
  let entries;
  try {
    entries = await readdir(path.join(root, "apps"), { withFileTypes: true });
  } catch {
    return [];
  }
  const ids: string[] = [];
  await Promise.all(
    entries
      .filter((e) => e.isDirectory() && !e.name.startsWith("."))
      .map(async (e) => {
        const files = await readdir(path.join(root, "apps", e.name));
        if (files.includes("app.json")) ids.push(e.name);
      }),
  );
  return ids.sort();
}

/** `appId` given → it; none → the only app under apps/, else APP_AMBIGUOUS / APP_NOT_FOUND. */
export async function chooseAppId(root: string, appId: string | undefined): Promise<string> {
  if (appId) return appId;
  const ids = await listAppIds(root);
  if (ids.length === 1) return ids[0]!;
  if (ids.length === 0) {
    if (!(await hasAppsFolder(root))) throw new DeclarationError("APPS_FOLDER_MISSING", { root });
    throw new DeclarationError("APP_NOT_FOUND", { appId: "(any)", root: path.join(root, "apps") });
  }
  throw new CliError("APP_AMBIGUOUS", { root, apps: ids.join(", ") });
}

/**
 * The apps a command serves or checks: the comma-separated `--app` list, else every app under
 * apps/ (APPS_FOLDER_MISSING / APP_NOT_FOUND when there is none). Each named app must exist.
 */
export async function chooseAppIds(root: string, appOption: string | undefined): Promise<string[]> {
  const named = (appOption ?? "").split(",").map((id) => id.trim()).filter((id) => id !== "");
  if (named.length > 0) return [...new Set(named)];
  const ids = await listAppIds(root);
  if (ids.length > 0) return ids;
  if (!(await hasAppsFolder(root))) throw new DeclarationError("APPS_FOLDER_MISSING", { root });
  throw new DeclarationError("APP_NOT_FOUND", { appId: "(any)", root: path.join(root, "apps") });
}

async function hasAppsFolder(root: string): Promise<boolean> {
  try {
    return (await stat(path.join(root, "apps"))).isDirectory();
  } catch {
    return false;
  }
}

async function readManifest(root: string, appId: string, problems: Problem[]): Promise<AppManifest> {
  const dir = path.join(root, "apps", appId);
  const file = path.join(dir, "app.json");
  const json = readJsonFile(file, problems, true);
  if (json.missing) {
    if (!(await hasAppsFolder(root))) throw new DeclarationError("APPS_FOLDER_MISSING", { root });
    throw new DeclarationError("APP_NOT_FOUND", { appId, root });
  }
  const manifest: AppManifest = { appId, title: appId, extends: [], dir, file };
  const value = json.value as Record<string, unknown> | undefined;
  if (value === undefined) return manifest; // JSON_MALFORMED already recorded
  if (!validateApp(value)) {
    for (const err of validateApp.errors ?? []) {
      const { pointer, reason } = describeAjvError(err);
      problems.push(problem("APP_INVALID", { file, pointer: pointer ? `#${pointer}` : "", reason }, { file, pointer }));
    }
    return manifest;
  }
  if (value.appId !== appId) {
    problems.push(problem("APP_INVALID", { file, pointer: "#/appId", reason: `must equal the folder name "${appId}"` }, { file, pointer: "/appId" }));
  }
  if (appId === "platform") {
    problems.push(problem("APP_INVALID", { file, pointer: "#/appId", reason: `"platform" is the name of the platform layer` }, { file, pointer: "/appId" }));
  }
  manifest.title = value.title as string;
  if (typeof value.version === "string") manifest.version = value.version;
  manifest.extends = (value.extends as string[] | undefined) ?? [];
  if (typeof value.defaultDatabase === "string") manifest.defaultDatabase = value.defaultDatabase;
  return manifest;
}

/**
 * The app's lookup order: itself, then its `extends` in C3 linearization (Python's MRO), so
 * a parent listed first wins over a later one and every app precedes its own parents.
 */
export async function linearizeApps(
  root: string,
  appId: string,
  problems: Problem[],
): Promise<{ order: string[]; manifests: Map<string, AppManifest> }> {
  const manifests = new Map<string, AppManifest>();
  const memo = new Map<string, string[]>();
  async function mro(id: string, stack: string[]): Promise<string[]> {
    if (stack.includes(id)) {
      throw new DeclarationError("APP_EXTENDS_CYCLE", { chain: [...stack.slice(stack.indexOf(id)), id].join(" -> ") });
    }
    const cached = memo.get(id);
    if (cached) return cached;
    let manifest = manifests.get(id);
    if (!manifest) {
      manifest = await readManifest(root, id, problems);
      manifests.set(id, manifest);
    }
    const parents: string[][] = [];
    for (const parent of manifest.extends) parents.push(await mro(parent, [...stack, id]));
    const result = [id, ...c3merge([...parents, [...manifest.extends]], id)];
    memo.set(id, result);
    return result;
  }
  const order = await mro(appId, []);
  return { order, manifests };
}

function c3merge(sequences: string[][], appId: string): string[] {
  const seqs = sequences.map((s) => [...s]).filter((s) => s.length > 0);
  const result: string[] = [];
  while (seqs.length > 0) {
    const head = seqs.map((s) => s[0]!).find((candidate) => !seqs.some((s) => s.indexOf(candidate) > 0));
    if (head === undefined) {
      const heads = [...new Set(seqs.map((s) => s[0]!))];
      throw new DeclarationError("APP_EXTENDS_INCONSISTENT", {
        appId,
        reason: `cannot order ${heads.join(", ")}: each must come before another`,
      });
    }
    result.push(head);
    for (const s of seqs) if (s[0] === head) s.shift();
    for (let i = seqs.length - 1; i >= 0; i--) if (seqs[i]!.length === 0) seqs.splice(i, 1);
  }
  return result;
}
