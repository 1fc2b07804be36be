import { realpathSync, statSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { systemClock, type Clock } from "../clock.ts";
import { DeclarationError, problem, type Problem } from "../errors/index.ts";
import { familyDeclarationProblems, loadFamilies } from "../family/load.ts";
import { redactPaths } from "../family/secrets.ts";
import { createLogger, withRedaction, type Logger } from "../logging/logger.ts";
import type { AppStore } from "../database/stores.ts";
import { chooseAppId, linearizeApps } from "../registry/apps.ts";
import { classOf, loadModules } from "../registry/code.ts";
import { buildConfig, SchemaCache, validateDeclaration } from "../registry/config.ts";
import { resolveDefinitions } from "../registry/resolve.ts";
import { describeSiblingOverride, siblingOverrides } from "../registry/siblings.ts";
import { walkElements } from "../registry/walk.ts";
import type { Def } from "../registry/model.ts";
import type { SqliteWriter } from "../database/sqlite/open.ts";
import { App } from "./App.ts";

export interface LoadAppOptions {
  /**
   * The app developer's folder: `apps/<appId>/` for each app, and optionally `elements/`, a
   * layer of its own between the apps and the platform.
   */
  root: string;
  /**
   * The folders of the platform layer (the lowest). Default: the platform elements shipped
   * with this package (its own `elements/`).
   */
  platformRoots?: string[];
  /** Defaults to the only app under `apps/`. */
  appId?: string;
  /**
   * The database: a SQLite file (path or `file:` URL) or a `postgres://` URL; defaults to env
   * JIT_DATABASE_URL, else JIT_DB, else DATABASE_URL, else `<root>/.jit/<appId>.sqlite` (database/location.ts).
   */
  dbFile?: string;
  /** Where the SQLite store's writes run (see openSqliteStore); default "inline". */
  sqliteWriter?: SqliteWriter;
  clock?: Clock;
  logger?: Logger;
  env?: Record<string, string | undefined>;
  store?: AppStore;
  /**
   * The app may be loaded again in this process (`jit dev`): element modules are imported by
   * content version, so a later load imports afresh exactly the ones whose folder changed.
   */
  reloadable?: boolean;
}

export const PLATFORM = "platform";
/** The layer of `<root>/elements`, between the apps and the platform. */
export const ROOT_LAYER = "root";

/** The package's platform elements: `elements/` beside `runtime/`, in the sources and in dist/. */
export const PACKAGE_PLATFORM_ROOT = fileURLToPath(new URL("../../elements", import.meta.url));
/**
 * The TypeScript sources of the platform layer, when this runtime is compiled inside a
 * checkout of the package (dist/runtime/app/ → the checkout's elements/). A root there (this
 * repository's demo) must not see them as a layer of its own above their compiled copy.
 */
const PLATFORM_SOURCES = import.meta.url.endsWith(".ts") ? undefined : fileURLToPath(new URL("../../../elements", import.meta.url));

function realpathOrSelf(dir: string): string {
  try {
    return realpathSync(dir);
  } catch {
    return dir;
  }
}

/**
 * `<root>/elements` when it exists and is not itself the platform (this repository, or a
 * root that links the platform in); undefined otherwise.
 */
function rootElementsOf(root: string, platformRoots: string[]): string | undefined {
  const dir = path.join(root, "elements");
  if (!existsDir(dir)) return undefined;
  const real = realpathOrSelf(dir);
  const platform = PLATFORM_SOURCES ? [...platformRoots, PLATFORM_SOURCES] : platformRoots;
  return platform.some((p) => realpathOrSelf(p) === real) ? undefined : dir;
}

function existsDir(dir: string): boolean {
  try {
    return statSync(dir).isDirectory();
  } catch {
    return false;
  }
}

function byLocation(a: Problem, b: Problem): number {
  const fa = a.file ?? "";
  const fb = b.file ?? "";
  if (fa !== fb) return fa < fb ? -1 : 1;
  const pa = a.pointer ?? "";
  const pb = b.pointer ?? "";
  if (pa !== pb) return pa < pb ? -1 : 1;
  return a.code < b.code ? -1 : a.code > b.code ? 1 : 0;
}

/**
 * Loads, validates and resolves an app's declarations and imports element code. Every
 * declaration problem is collected and thrown as one DECLARATION_INVALID error.
 */
export async function loadApp(options: LoadAppOptions): Promise<App> {
  const root = path.resolve(options.root);
  const env = options.env ?? process.env;
  const logger = options.logger ?? createLogger();
  // Empty counts as unset, as in loadMasterKey (which then uses <root>/.jit/master.key).
  if (env.JIT_MASTER_KEY !== undefined && env.JIT_MASTER_KEY !== "") {
    // Fail at start-up, not at the first login, when the configured key is malformed.
    const { parseMasterKey } = await import("../security/masterKey.ts");
    parseMasterKey(env.JIT_MASTER_KEY, "JIT_MASTER_KEY");
  }
  const appId = await chooseAppId(root, options.appId);
  const problems: Problem[] = [];
  const { order, manifests } = await linearizeApps(root, appId, problems);
  const platformRoots = (options.platformRoots ?? [PACKAGE_PLATFORM_ROOT]).map((dir) => path.resolve(dir));
  const rootElements = rootElementsOf(root, platformRoots);
  const layers = [...order, ...(rootElements ? [ROOT_LAYER] : []), PLATFORM];

  const walked = [
    ...order.map((layer) => walkElements(path.join(root, "apps", layer, "elements"), layer, problems)),
    ...(rootElements ? [walkElements(rootElements, ROOT_LAYER, problems)] : []),
    ...platformRoots.map((dir) => walkElements(dir, PLATFORM, problems)),
  ];
  const { visible, all } = resolveDefinitions(walked.flat(), layers, problems);
  const warnings: string[] = [];
  for (const rival of siblingOverrides(all, order, manifests)) {
    const line = describeSiblingOverride(rival);
    warnings.push(line);
    logger.warn({ fullName: rival.fullName, apps: [rival.winner, rival.loser], files: [rival.winnerFile, rival.loserFile] }, line);
  }

  const schemas = new SchemaCache();
  const usable = all.filter((def) => def.ok);
  for (const def of usable) validateDeclaration(def, schemas, problems);
  await loadModules(
    usable.filter((def) => def.decl.backendBundleEntry !== undefined),
    problems,
    options.reloadable === true,
  );
  for (const def of usable) classOf(def, problems);
  for (const def of usable) if (def.ok) buildConfig(def, env, schemas, problems);
  const families = await loadFamilies(visible, problems);
  familyDeclarationProblems(families, usable, problems);

  const manifest = manifests.get(appId);
  if (manifest?.defaultDatabase !== undefined) checkDefaultDatabase(manifest.defaultDatabase, manifest.file, visible, problems);

  if (problems.length > 0) {
    problems.sort(byLocation);
    throw new DeclarationError("DECLARATION_INVALID", { count: problems.length }, { problems });
  }
  return new App({
    appId,
    root,
    title: manifests.get(appId)?.title ?? appId,
    layers,
    clock: options.clock ?? systemClock,
    // Element lines are redacted by what the app's families declare secret, too.
    logger: withRedaction(logger, redactPaths(families.secrets)),
    families,
    env,
    visible,
    warnings,
    ...(options.dbFile !== undefined ? { dbFile: options.dbFile } : {}),
    ...(options.sqliteWriter !== undefined ? { sqliteWriter: options.sqliteWriter } : {}),
    ...(options.store !== undefined ? { store: options.store } : {}),
    ...(manifest?.defaultDatabase !== undefined ? { defaultDatabase: manifest.defaultDatabase } : {}),
  });
}

/** app.json's defaultDatabase must name a database element (an instance under databases.Meta) the app sees. */
function checkDefaultDatabase(fullName: string, file: string, visible: Map<string, Def>, problems: Problem[]): void {
  const def = visible.get(fullName);
  let isDatabase = false;
  for (let link: Def | undefined = def; link; link = link.next) if (link.fullName === "databases.Meta") isDatabase = true;
  if (def && isDatabase && def.kind === "instance") return;
  const reason = def ? `${fullName} is not a database element (an instance of a databases.Meta Type)` : `no element ${fullName} is visible to this app`;
  problems.push(problem("APP_INVALID", { file, pointer: "#/defaultDatabase", reason }, { file, pointer: "/defaultDatabase" }));
}
