import path from "node:path";
import { mergeErrorTables, RUNTIME_ERRORS, type ErrorTableSource, type MergedErrorCode } from "../errors/codes.ts";
import { problem, type Problem } from "../errors/index.ts";
import { defaultExport, importModule } from "../registry/code.ts";
import type { Def } from "../registry/model.ts";
import { RUNTIME_SECRETS } from "./secrets.ts";
import { inFamily, type FamilyDefinition, type FamilySecrets, type LoadedFamily } from "./types.ts";

/** Family module names looked for beside a Meta's e.json, in this order. */
export const FAMILY_FILES = ["family.ts", "family.mts", "family.js", "family.mjs"];

const KEYS = new Set(["errors", "secrets", "sessionLookup", "limits", "console", "checkDeclaration", "prepare"]);
const ENV_NAME = /^[A-Z][A-Z0-9_]*$/;
const LIMIT_NAME = /^[a-z][A-Za-z0-9]*$/;

/** Everything an app's families bring, merged. */
export interface Families {
  list: readonly LoadedFamily[];
  /** Every error code the app may answer: the runtime's and its families'. */
  errors: ReadonlyMap<string, MergedErrorCode>;
  /** The runtime's secrets, then each family's. */
  secrets: readonly FamilySecrets[];
}

/** The family module of a Meta: its own folder's, else that of the definition it overrides. */
function familyFileOf(def: Def): string | undefined {
  for (let d: Def | undefined = def; d; d = d.shadow) {
    const name = FAMILY_FILES.find((file) => d!.raw.files.includes(file));
    if (name) return path.join(d.raw.dir, name);
  }
  return undefined;
}

/** The reasons a family module's default export is not a family definition (empty when it is). */
export function checkFamily(value: unknown): string[] {
  if (value === null || typeof value !== "object") return ["it must default-export an object: `export default defineFamily({ ... })`"];
  const reasons: string[] = [];
  const def = value as Record<string, unknown>;
  for (const key of Object.keys(def)) if (!KEYS.has(key)) reasons.push(`unknown key "${key}" (known: ${[...KEYS].join(", ")})`);
  if (def.errors !== undefined) {
    if (def.errors === null || typeof def.errors !== "object") reasons.push("errors must be an object of codes");
    else {
      for (const [code, spec] of Object.entries(def.errors as Record<string, unknown>)) {
        const s = spec as Record<string, unknown> | null;
        if (!/^[A-Z][A-Z0-9_]*$/.test(code)) reasons.push(`errors.${code}: a code is UPPER_SNAKE_CASE`);
        if (!s || typeof s.family !== "string" || typeof s.message !== "string" || typeof s.status !== "number" || s.status < 400 || s.status > 599) {
          reasons.push(`errors.${code}: needs family (string), status (400-599) and message (string)`);
        }
      }
    }
  }
  if (def.secrets !== undefined) {
    const s = def.secrets as Record<string, unknown> | null;
    const lists = ["fields", "args", "paths"];
    if (!s || typeof s !== "object" || Object.keys(s).some((k) => !lists.includes(k))) reasons.push("secrets must be { fields?, args?, paths? }");
    else for (const k of lists) if (s[k] !== undefined && !(Array.isArray(s[k]) && (s[k] as unknown[]).every((n) => typeof n === "string" && n !== ""))) reasons.push(`secrets.${k} must be a list of names`);
  }
  for (const hook of ["checkDeclaration", "prepare"]) if (def[hook] !== undefined && typeof def[hook] !== "function") reasons.push(`${hook} must be a function`);
  if (def.sessionLookup !== undefined && typeof def.sessionLookup !== "function") reasons.push("sessionLookup must be a function (token, app) => Promise<{ userId, corpId } | null>");
  if (def.console !== undefined) {
    const c = def.console as Record<string, unknown> | null;
    if (!c || typeof c !== "object" || Object.keys(c).some((k) => k !== "overview" && k !== "routes") || [c.overview, c.routes].some((f) => f !== undefined && typeof f !== "function")) {
      reasons.push("console must be { overview?: (app, kit) => object, routes?: (server, app, kit) => void }");
    }
  }
  if (def.limits !== undefined) {
    if (def.limits === null || typeof def.limits !== "object") reasons.push("limits must be an object");
    else {
      for (const [name, limit] of Object.entries(def.limits as Record<string, unknown>)) {
        const l = limit as Record<string, unknown> | null;
        if (!LIMIT_NAME.test(name) || name === "ip" || name === "user") reasons.push(`limits.${name}: a limit name is camelCase and not "ip" or "user" (the server's own)`);
        if (!l || typeof l.env !== "string" || !ENV_NAME.test(l.env) || typeof l.default !== "string" || typeof l.description !== "string") {
          reasons.push(`limits.${name}: needs env (an environment variable name), default (e.g. "20/minute") and description`);
        }
      }
    }
  }
  return reasons;
}

/**
 * Imports the family module of every Meta the app sees and merges what they bring. Every
 * problem (a module that fails, a malformed definition, a code two owners define, a limit two
 * families declare) is added to `problems`, so the load stops with all of them at once.
 */
export async function loadFamilies(visible: ReadonlyMap<string, Def>, problems: Problem[]): Promise<Families> {
  const metas = [...visible.values()].filter((def) => def.ok && def.kind === "meta").sort((a, b) => (a.fullName < b.fullName ? -1 : 1));
  const found = await Promise.all(
    metas.map(async (meta): Promise<LoadedFamily | undefined> => {
      const file = familyFileOf(meta);
      if (!file) return undefined;
      let exported: unknown;
      try {
        exported = defaultExport(await importModule(file));
      } catch (err) {
        problems.push(problem("MODULE_LOAD_FAILED", { file, fullName: meta.fullName, reason: ((err as Error)?.message ?? String(err)).split("\n")[0]! }, { file }));
        return undefined;
      }
      const reasons = checkFamily(exported);
      for (const reason of reasons) problems.push(problem("FAMILY_INVALID", { file, fullName: meta.fullName, reason }, { file }));
      if (reasons.length > 0) return undefined;
      const name = meta.fullName.endsWith(".Meta") ? meta.fullName.slice(0, -".Meta".length) : meta.fullName;
      return { name, meta: meta.fullName, file, definition: exported as FamilyDefinition };
    }),
  );
  const list = found.filter((f): f is LoadedFamily => f !== undefined);

  const sources: ErrorTableSource[] = [RUNTIME_ERRORS, ...list.filter((f) => f.definition.errors).map((f) => ({ owner: f.name, file: f.file, codes: f.definition.errors! }))];
  const { table, clashes } = mergeErrorTables(sources);
  for (const { code, first, second } of clashes) {
    problems.push(problem("ERROR_CODE_DUPLICATE", { code, owner: second.owner, file: second.file, otherOwner: first.owner, otherFile: first.file }, { file: second.file }));
  }
  const limitOwner = new Map<string, LoadedFamily>();
  for (const family of list) {
    for (const name of Object.keys(family.definition.limits ?? {})) {
      const other = limitOwner.get(name);
      if (other) problems.push(problem("FAMILY_INVALID", { file: family.file, fullName: family.meta, reason: `limit "${name}" is also declared by ${other.name} (${other.file})` }, { file: family.file }));
      else limitOwner.set(name, family);
    }
  }
  return { list, errors: table, secrets: [RUNTIME_SECRETS, ...list.flatMap((f) => (f.definition.secrets ? [f.definition.secrets] : []))] };
}

/** The families' own checks of the instances that belong to them (FamilyDefinition.checkDeclaration). */
export function familyDeclarationProblems(families: Families, defs: readonly Def[], problems: Problem[]): void {
  const checkers = families.list.filter((f) => f.definition.checkDeclaration);
  if (checkers.length === 0) return;
  for (const def of defs) {
    if (!def.ok || def.kind !== "instance") continue;
    const chain: Array<{ fullName: string }> = [];
    for (let d: Def | undefined = def; d; d = d.next) chain.push({ fullName: d.fullName });
    for (const family of checkers) {
      if (!inFamily(family, chain)) continue;
      for (const { pointer, reason } of family.definition.checkDeclaration!(def.fullName, def.decl)) {
        problems.push(problem("SCHEMA_INVALID", { file: def.file, pointer: `#${pointer}`, reason }, { file: def.file, pointer }));
      }
    }
  }
}
