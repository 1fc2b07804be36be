import { createHash } from "node:crypto";
import { existsSync, readdirSync, readFileSync, statSync } from "node:fs";
import { createRequire, register } from "node:module";
import path from "node:path";
import { pathToFileURL } from "node:url";
import { ElementBase, isElementBase, type ElementClass } from "../element/ElementBase.ts";
import { problem, type Problem } from "../errors/index.ts";
import type { Def } from "./model.ts";

const CODE_FILE = /\.(ts|mts|js|mjs)$/;

/** Module file names looked for in an element folder, in this order. */
const INDEX_FILES = ["index.ts", "index.mts", "index.js", "index.mjs"];

/** The module of an element: `backendBundleEntry` "." is its folder; no index.{ts,mts,js,mjs} there = no code. */
export function moduleFileOf(def: Def): string | undefined {
  const entry = def.decl.backendBundleEntry;
  if (typeof entry !== "string") return undefined;
  const dir = def.raw.dir;
  if (entry === "." || entry === "./") {
    const name = INDEX_FILES.find((file) => def.raw.files.includes(file));
    return name === undefined ? undefined : path.join(dir, name);
  }
  const target = path.resolve(dir, entry);
  if (CODE_FILE.test(target)) return target; // a missing file is reported when importing it
  if (!existsSync(target) || !statSync(target).isDirectory()) return undefined;
  for (const name of INDEX_FILES) {
    if (existsSync(path.join(target, name))) return path.join(target, name);
  }
  return undefined;
}

/** Node caches modules too, but each import() still runs the (off-thread) loader hooks. */
const imported = new Map<string, Promise<unknown>>();

/**
 * Compiled (the package's dist/), nothing loads TypeScript until tsx is registered, which
 * happens before the first .ts/.mts module is imported (so the runtime itself never loads
 * tsx). Run from its own TypeScript sources, a loader is already in place (tsx, vitest).
 */
const NEEDS_TS_LOADER = !import.meta.url.endsWith(".ts");
const TS_FILE = /\.m?ts$/;
let tsxReady: Promise<void> | undefined;

/**
 * Both of tsx's loaders: in a folder without `"type": "module"` tsx compiles a .ts file as
 * CommonJS, which the require hook loads (the ESM hook alone hands it to Node's own CJS
 * loader, which then fails on TypeScript syntax).
 */
function registerTsx(): Promise<void> {
  tsxReady ??= Promise.all([import("tsx/esm/api"), import("tsx/cjs/api")]).then(([esm, cjs]) => {
    esm.register();
    cjs.register();
  });
  return tsxReady;
}

/**
 * Versioned imports, for an app loaded again in one process (`jit dev`). Node caches a module
 * by URL for the life of the process and offers no way to drop one, so a changed module is
 * imported under a new URL: `?jit-version=<hash of the code files of its element folder>`.
 * The resolve hook below gives the same query to every relative import of a versioned module,
 * so a changed helper file beside an element's index is imported afresh too. Packages
 * (`jit-runtime`, node_modules) are never versioned: there is one runtime, one ElementBase.
 *
 * The version is the folder's content, not a counter: an unchanged element keeps its URL
 * and costs nothing on a reload, and only distinct contents ever saved add modules to Node's
 * cache (docs/development.md has the measured cost).
 */
const VERSION_PARAM = "jit-version";
const PROPAGATE_VERSION = `export async function resolve(specifier, context, next) {
  const result = await next(specifier, context);
  const parent = context.parentURL;
  if (!parent || !parent.includes("${VERSION_PARAM}=") || !result.url.startsWith("file:") || result.url.includes("/node_modules/")) return result;
  if (!specifier.startsWith(".") && !specifier.startsWith("/") && !specifier.startsWith("file:")) return result;
  const url = new URL(result.url);
  if (url.searchParams.has("${VERSION_PARAM}")) return result;
  url.searchParams.set("${VERSION_PARAM}", new URL(parent).searchParams.get("${VERSION_PARAM}"));
  return { ...result, url: url.href };
}`;
let versionHookReady = false;

/** The content hash of the code files in an element folder and its subfolders. */
export function codeVersion(dir: string): string {
  const hash = createHash("sha1");
  const visit = (folder: string, rel: string) => {
    let entries;
    try {
      entries = readdirSync(folder, { withFileTypes: true });
    } catch {
      return;
    }
    for (const entry of entries.sort((a, b) => (a.name < b.name ? -1 : 1))) {
      if (entry.name.startsWith(".") || entry.name === "node_modules") continue;
      const full = path.join(folder, entry.name);
      if (entry.isDirectory()) visit(full, `${rel}${entry.name}/`);
      else if (CODE_FILE.test(entry.name)) {
        hash.update(`${rel}${entry.name}\0`);
        hash.update(readFileSync(full));
        hash.update("\0");
      }
    }
  };
  visit(dir, "");
  return hash.digest("hex").slice(0, 16);
}

/**
 * In a folder without `"type": "module"`, tsx loads a .ts or .js module as CommonJS, which
 * Node caches by file name whatever the URL's query: the element folder's entries are
 * dropped from that cache, so a new version is evaluated afresh (and the old one's modules
 * can be collected).
 */
function forgetCommonJs(dir: string): void {
  const cache = createRequire(import.meta.url).cache;
  const prefix = dir + path.sep;
  for (const key of Object.keys(cache)) if (key.startsWith(prefix) && !key.includes(`${path.sep}node_modules${path.sep}`)) delete cache[key];
}

/** The last version imported of each file: an older version's entry is dropped, not kept forever. */
const versionOf = new Map<string, string>();

/**
 * Imports a module once per file (and version, see above); a failed import may be retried
 * (a fixed file).
 */
export function importModule(file: string, version?: string): Promise<unknown> {
  const key = version === undefined ? file : `${file}?${version}`;
  let pending = imported.get(key);
  if (!pending) {
    if (version !== undefined) {
      const before = versionOf.get(file);
      if (before !== undefined && before !== version) imported.delete(`${file}?${before}`);
      versionOf.set(file, version);
    }
    pending = importUncached(file, version);
    imported.set(key, pending);
    pending.catch(() => imported.delete(key)); // a fixed file may be retried
  }
  return pending;
}

async function importUncached(file: string, version: string | undefined): Promise<unknown> {
  if (NEEDS_TS_LOADER && TS_FILE.test(file)) await registerTsx();
  const url = pathToFileURL(file);
  if (version !== undefined) {
    if (!versionHookReady) {
      versionHookReady = true;
      // Registered after tsx's hooks, so it runs first and sees what tsx resolved.
      register(`data:text/javascript,${encodeURIComponent(PROPAGATE_VERSION)}`);
    }
    url.searchParams.set(VERSION_PARAM, version);
    forgetCommonJs(path.dirname(file));
  }
  return import(url.href);
}

/**
 * Imports the code of every definition that has some, in parallel. `versioned`: by content
 * version (an app that may be loaded again in this process, see importModule).
 */
export async function loadModules(defs: Def[], problems: Problem[], versioned = false): Promise<void> {
  const withCode: Def[] = [];
  for (const def of defs) {
    const file = moduleFileOf(def);
    if (file) {
      def.modulePath = file;
      withCode.push(def);
    }
  }
  await Promise.all(
    withCode.map(async (def) => {
      const file = def.modulePath!;
      try {
        const version = versioned && !file.includes(`${path.sep}node_modules${path.sep}`) ? codeVersion(path.dirname(file)) : undefined;
        const exported = defaultExport(await importModule(file, version));
        if (typeof exported !== "function") throw new Error(missingExportReason(def, exported));
        def.moduleExport = exported;
      } catch (err) {
        def.ok = false;
        problems.push(moduleProblem(def, file, (err as Error)?.message ?? String(err)));
      }
    }),
  );
}

/**
 * The default export, whichever module system the file was loaded as: in a folder without
 * `"type": "module"`, a .ts or .js file may load as CommonJS, and `export default f` then
 * arrives as `{ default: { default: f } }`.
 */
export function defaultExport(mod: unknown): unknown {
  const value = (mod as { default?: unknown } | null)?.default;
  if (value !== null && typeof value === "object" && typeof (value as { default?: unknown }).default === "function") {
    return (value as { default: unknown }).default;
  }
  return value;
}

/** What the module of this element must export, for the error when it does not. */
function missingExportReason(def: Def, exported: unknown): string {
  const found = exported === undefined ? "has no default export" : `default-exports a ${exported === null ? "null" : typeof exported}`;
  const wanted = def.next
    ? "it must default-export a function (Parent) => class extends Parent, e.g. `export default (Parent) => class extends Parent { ... }`"
    : "a Meta's module must default-export a class extending ElementBase";
  return `the module ${found}; ${wanted}`;
}

function moduleProblem(def: Def, file: string, reason: string): Problem {
  return problem("MODULE_LOAD_FAILED", { file, fullName: def.fullName, reason: reason.split("\n")[0]! }, { file });
}

function extendsClass(candidate: unknown, parent: Function): candidate is ElementClass {
  return typeof candidate === "function" && (candidate === parent || candidate.prototype instanceof parent);
}

/** A Meta's class may extend the ElementBase of another copy of the runtime (ElementBase's brand). */
function isElementClass(candidate: unknown): candidate is ElementClass {
  return extendsClass(candidate, ElementBase) || (typeof candidate === "function" && isElementBase(candidate.prototype));
}

/**
 * The class of a definition, computed once per App: a Meta's module exports its base
 * class (ElementBase when it has no code); any other module exports
 * `(Parent) => class extends Parent`, with Parent the class of `def.next`.
 */
export function classOf(def: Def, problems: Problem[]): ElementClass | undefined {
  if (def.cls) return def.cls;
  if (!def.ok) return undefined;
  const exported = def.moduleExport;
  const file = def.modulePath ?? def.file;
  if (!def.next) {
    if (exported === undefined) def.cls = ElementBase;
    else if (isElementClass(exported)) def.cls = exported;
    else {
      def.ok = false;
      problems.push(moduleProblem(def, file, "a Meta module must default-export a class extending ElementBase"));
    }
    return def.cls;
  }
  const parent = classOf(def.next, problems);
  if (!parent) {
    def.ok = false;
    return undefined;
  }
  if (exported === undefined) return (def.cls = parent);
  let made: unknown;
  try {
    made = (exported as (p: ElementClass) => unknown)(parent);
  } catch (err) {
    def.ok = false;
    const reason = err instanceof TypeError && /class constructor/i.test(err.message)
      ? "the default export is a class; a Type module must export (Parent) => class extends Parent"
      : (err as Error)?.message ?? String(err);
    problems.push(moduleProblem(def, file, reason));
    return undefined;
  }
  if (!extendsClass(made, parent)) {
    def.ok = false;
    problems.push(moduleProblem(def, file, "the default export must be (Parent) => class extends Parent, returning a subclass of Parent"));
    return undefined;
  }
  return (def.cls = made);
}
