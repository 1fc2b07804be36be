import type { ValidateFunction } from "ajv";
import { problem, type Problem } from "../errors/index.ts";
import { configAjv, declarationAjv, DECLARATION_KEYS, describeAjvError } from "../validation/schemas.ts";
import { chainOf, type Def } from "./model.ts";
import type { JsonFile } from "./walk.ts";

type Obj = Record<string, unknown>;

export function isPlainObject(value: unknown): value is Obj {
  return typeof value === "object" && value !== null && !Array.isArray(value);
}

/** Objects merge key by key; arrays and scalars replace. Never mutates its inputs. */
export function deepMerge(base: Obj, over: Obj): Obj {
  const out: Obj = { ...base };
  for (const key of Object.keys(over)) {
    const b = out[key];
    const o = over[key];
    out[key] = isPlainObject(b) && isPlainObject(o) ? deepMerge(b, o) : o;
  }
  return out;
}

export function deepFreeze<T>(value: T): T {
  if (typeof value === "object" && value !== null && !Object.isFrozen(value)) {
    Object.freeze(value);
    for (const v of Object.values(value)) deepFreeze(v);
  }
  return value;
}

function escapeKey(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

const ENV_REF = /^\$\{([A-Za-z_][A-Za-z0-9_]*)\}$/;

/** Replaces "${NAME}" strings by env NAME (so secrets can live in the environment). */
function substituteEnv(value: unknown, env: Readonly<Record<string, string | undefined>>, file: string, pointer: string, problems: Problem[]): unknown {
  if (typeof value === "string") {
    const m = ENV_REF.exec(value);
    if (!m) return value;
    const resolved = env[m[1]!];
    if (resolved === undefined) {
      problems.push(problem("CONFIG_INVALID", { source: `${file}#${pointer}`, reason: `environment variable ${m[1]} is not set` }, { file, pointer }));
    }
    return resolved ?? value;
  }
  if (Array.isArray(value)) return value.map((v, i) => substituteEnv(v, env, file, `${pointer}/${i}`, problems));
  if (isPlainObject(value)) {
    const out: Obj = {};
    for (const key of Object.keys(value)) out[key] = substituteEnv(value[key], env, file, `${pointer}/${escapeKey(key)}`, problems);
    return out;
  }
  return value;
}

/*
 * Compiled validators per schema text, for the whole process: compiling is the costly part
 * of ajv (milliseconds per schema), and tests, the CLI and servers load the same app
 * repeatedly. Validators are pure functions of their schema, so sharing them is safe.
 */
const compiledByText = new Map<string, ValidateFunction>();

function compile(kind: "e" | "config", schema: unknown): ValidateFunction {
  const key = kind + JSON.stringify(schema);
  let fn = compiledByText.get(key);
  if (!fn) {
    fn = (kind === "e" ? declarationAjv : configAjv).compile(schema as object);
    compiledByText.set(key, fn);
  }
  return fn;
}

/** A compiled schema per file, shared by every element whose chain includes it. */
export class SchemaCache {
  readonly #compiled = new Map<string, ValidateFunction | null>();
  get(json: JsonFile | undefined, kind: "e" | "config", problems: Problem[]): ValidateFunction | null {
    if (!json || json.value === undefined) return null;
    let fn = this.#compiled.get(json.file);
    if (fn !== undefined) return fn;
    try {
      fn = compile(kind, json.value);
    } catch (err) {
      problems.push(problem("SCHEMA_INVALID", { file: json.file, pointer: "", reason: `not a valid JSON schema: ${(err as Error).message}` }, { file: json.file, pointer: "" }));
      fn = null;
    }
    this.#compiled.set(json.file, fn);
    return fn;
  }
}

/** Validates an e.json against the `e.schema.json` of every other element in its chain. */
export function validateDeclaration(def: Def, schemas: SchemaCache, problems: Problem[]): void {
  for (let link = def.next; link; link = link.next) {
    if (link.fullName === def.fullName || !link.raw.eSchema) continue;
    const validate = schemas.get(link.raw.eSchema, "e", problems);
    if (validate && !validate(def.decl)) {
      for (const err of validate.errors ?? []) {
        const { pointer, reason } = describeAjvError(err);
        problems.push(problem("SCHEMA_INVALID", { file: def.file, pointer: `#${pointer}`, reason }, { file: def.file, pointer }));
      }
    }
  }
}

interface Source {
  file: string;
  value: Obj;
}

/**
 * The sources of a definition's effective config, lowest first: `defaults` of each Meta/Type
 * in the chain, then for each definition of the instance itself (overridden ones first)
 * its e.json keys and its business config file.
 */
function configSources(def: Def, env: Readonly<Record<string, string | undefined>>, problems: Problem[]): Source[] {
  const chain = chainOf(def);
  const sources: Source[] = [];
  for (let i = chain.length - 1; i >= 0; i--) {
    const link = chain[i]!;
    if (link.fullName !== def.fullName || def.kind !== "instance") {
      const defaults = link.decl.defaults;
      if (isPlainObject(defaults)) sources.push({ file: link.file, value: defaults });
      continue;
    }
    const own: Obj = {};
    for (const key of Object.keys(link.decl)) if (!DECLARATION_KEYS.has(key)) own[key] = link.decl[key];
    sources.push({ file: link.file, value: own });
    const entry = link.decl.frontBundleEntry;
    if (typeof entry !== "string") continue;
    const business = link.raw.business;
    if (!entry.endsWith(".json")) {
      problems.push(problem("SCHEMA_INVALID", { file: link.file, pointer: "#/frontBundleEntry", reason: "an instance's frontBundleEntry must name its business config .json file" }, { file: link.file, pointer: "/frontBundleEntry" }));
    } else if (!business || business.missing) {
      problems.push(problem("CONFIG_FILE_MISSING", { file: link.file, entry }, { file: link.file, pointer: "/frontBundleEntry" }));
    } else if (business.value !== undefined) {
      if (!isPlainObject(business.value)) {
        problems.push(problem("SCHEMA_INVALID", { file: business.file, pointer: "", reason: "a business config file must hold a JSON object" }, { file: business.file, pointer: "" }));
      } else {
        const value = business.envRefs ? (substituteEnv(business.value, env, business.file, "", problems) as Obj) : business.value;
        sources.push({ file: business.file, value });
      }
    }
  }
  return sources;
}

function has(value: unknown, pointer: string): boolean {
  if (pointer === "") return true;
  let cur = value;
  for (const raw of pointer.slice(1).split("/")) {
    const key = raw.replace(/~1/g, "/").replace(/~0/g, "~");
    if (typeof cur !== "object" || cur === null || !Object.prototype.hasOwnProperty.call(cur, key)) return false;
    cur = (cur as Obj)[key];
  }
  return true;
}

/** Computes, validates and freezes the effective config of a definition. */
export function buildConfig(def: Def, env: Readonly<Record<string, string | undefined>>, schemas: SchemaCache, problems: Problem[]): void {
  const sources = configSources(def, env, problems);
  let config: Obj = {};
  for (const s of sources) config = deepMerge(config, s.value);
  if (def.kind === "instance") {
    for (let link: Def | undefined = def; link; link = link.next) {
      if (!link.raw.configSchema) continue;
      const validate = schemas.get(link.raw.configSchema, "config", problems);
      if (!validate || validate(config)) continue;
      for (const err of validate.errors ?? []) {
        const { pointer, reason, missing } = describeAjvError(err);
        // The file the offending value comes from: the last source that defines it; a
        // missing key belongs in the business config (or the e.json when there is none).
        const from = missing ? sources[sources.length - 1] : [...sources].reverse().find((s) => has(s.value, pointer));
        const file = from?.file ?? def.file;
        problems.push(problem("SCHEMA_INVALID", { file, pointer: `#${pointer}`, reason }, { file, pointer }));
      }
    }
  }
  def.config = deepFreeze(config);
}
