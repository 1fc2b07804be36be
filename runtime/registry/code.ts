import { existsSync, statSync } from "node:fs";
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

/** Imports a module once per file; a failed import may be retried (a fixed file). */
export function importModule(file: string): Promise<unknown> {
  let pending = imported.get(file);
  if (!pending) {
    pending = importUncached(file);
    imported.set(file, pending);
    pending.catch(() => imported.delete(file)); // a fixed file may be retried
  }
  return pending;
}

async function importUncached(file: string): Promise<unknown> {
  if (NEEDS_TS_LOADER && TS_FILE.test(file)) await registerTsx();
  return import(pathToFileURL(file).href);
}

/** Imports the code of every definition that has some, in parallel. */
export async function loadModules(defs: Def[], problems: Problem[]): Promise<void> {
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
        const exported = defaultExport(await importModule(file));
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
