import type { DefinitionRef, ElementDefine, FunctionDecl } from "../element/types.ts";
import { chainOf, type Def } from "./model.ts";
import { deepFreeze, isPlainObject } from "./config.ts";
import path from "node:path";

function refOf(def: Def): DefinitionRef {
  return { fullName: def.fullName, layer: def.layer, file: def.file };
}

/** The merged declaration of a definition (built on first request, then cached). */
export function defineOf(def: Def): ElementDefine {
  if (def.define) return def.define;
  const chain = chainOf(def);
  const seen = new Set<string>();
  const functionList: FunctionDecl[] = [];
  for (const link of chain) {
    const list = link.decl.functionList;
    if (!Array.isArray(list)) continue;
    for (const fn of list as FunctionDecl[]) {
      if (seen.has(fn.name)) continue;
      seen.add(fn.name);
      functionList.push(fn);
    }
  }
  const shadows: DefinitionRef[] = [];
  for (let s = def.shadow; s; s = s.shadow) shadows.push(refOf(s));
  const d = def.decl;
  const define: ElementDefine = {
    fullName: def.fullName,
    kind: def.kind ?? "instance",
    type: def.type,
    title: String(d.title ?? ""),
    accessModifier: def.access,
    layer: def.layer,
    file: def.file,
    dir: path.dirname(def.file),
    functionList,
    declared: d,
    chain: chain.map(refOf),
    shadows,
    config: def.config ?? {},
  };
  if (typeof d.description === "string") define.description = d.description;
  if (typeof d.backendBundleEntry === "string") define.backendBundleEntry = d.backendBundleEntry;
  if (typeof d.frontBundleEntry === "string") define.frontBundleEntry = d.frontBundleEntry;
  return (def.define = deepFreeze(define));
}

/** Keys secret by name whatever the families declare. */
const SECRET_KEY = /secret|token/i;
export const MASK = "******";

/** JSON-schema nodes along a config path, to honour `"secret": true`. */
function childSchemas(schemas: unknown[], key: string): unknown[] {
  const out: unknown[] = [];
  for (const s of schemas) {
    if (!isPlainObject(s)) continue;
    const props = s.properties;
    if (isPlainObject(props) && key in props) out.push(props[key]);
    else if (isPlainObject(s.additionalProperties)) out.push(s.additionalProperties);
    for (const k of ["allOf", "anyOf", "oneOf"]) {
      if (Array.isArray(s[k])) out.push(...childSchemas(s[k] as unknown[], key));
    }
  }
  return out;
}

/**
 * A copy of a config with secret values replaced by "******": keys marked `"secret": true`
 * in a config schema of the chain, and any key that looks secret by name (`isSecretKey`: the
 * names the app's families declare secret, see App.getMaskedConfig).
 */
export function maskSecrets(value: unknown, schemas: unknown[], isSecretKey: (key: string) => boolean = () => false): unknown {
  if (Array.isArray(value)) return value.map((v) => maskSecrets(v, schemas.flatMap((s) => (isPlainObject(s) && s.items ? [s.items] : [])), isSecretKey));
  if (!isPlainObject(value)) return value;
  const out: Record<string, unknown> = {};
  for (const key of Object.keys(value)) {
    const sub = childSchemas(schemas, key);
    const secret = SECRET_KEY.test(key) || isSecretKey(key) || sub.some((s) => isPlainObject(s) && s.secret === true);
    out[key] = secret && value[key] !== undefined && value[key] !== null ? MASK : maskSecrets(value[key], sub, isSecretKey);
  }
  return out;
}
