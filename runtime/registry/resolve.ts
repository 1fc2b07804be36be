import { problem, type Problem } from "../errors/index.ts";
import type { AccessModifier } from "../element/types.ts";
import { describeAjvError, rateLimitProblems, validateElement } from "../validation/schemas.ts";
import type { Def } from "./model.ts";
import type { RawElement } from "./walk.ts";

export interface Resolution {
  /** Every definition of each fullName across the loaded layers, highest layer first. */
  byName: Map<string, Def[]>;
  /** The definition the app itself sees for each fullName (private ones of lower layers hidden). */
  visible: Map<string, Def>;
  all: Def[];
}

/**
 * Resolves names and kinds. References resolve from the referring definition's layer
 * against the whole lookup order, so an app's override of a platform Type also applies to
 * platform instances of that Type (as Odoo's `_inherit` does); a `private` definition is
 * seen only by its own layer.
 *
 * Kind rule (explicit, since e.json has no `kind` key):
 *   type === ""                     → meta
 *   else `isType: true`             → type (a Type extending a parent Type declares it)
 *   else type resolves to a Meta    → type; but a declaration that says it is an instance
 *                                     (`isType: false`, or a business config in
 *                                     `frontBundleEntry`) is META_AS_INSTANCE_TYPE, so a
 *                                     mistyped instance is never quietly taken for a Type
 *   else type resolves to a Type    → instance
 *   type resolves to an instance    → INSTANCE_AS_TYPE
 */
export function resolveDefinitions(raws: RawElement[], order: string[], problems: Problem[]): Resolution {
  const rankOf = new Map(order.map((layer, i) => [layer, i]));
  const perLayer = new Map<string, Def>();
  for (const raw of raws) {
    const def = toDef(raw, rankOf.get(raw.layer)!, problems);
    if (!def) continue;
    const key = raw.layer + "\0" + raw.fullName;
    const other = perLayer.get(key);
    if (!other) {
      perLayer.set(key, def);
      continue;
    }
    // Keep the smaller path and report the pair in path order, so reports are stable.
    const [kept, dropped] = other.file < def.file ? [other, def] : [def, other];
    perLayer.set(key, kept);
    problems.push(
      problem("DUPLICATE_ELEMENT", { fullName: raw.fullName, layer: raw.layer, file: kept.file, otherFile: dropped.file }, { file: dropped.file }),
    );
  }
  const all = [...perLayer.values()];

  const byName = new Map<string, Def[]>();
  for (const def of all) {
    const list = byName.get(def.fullName);
    if (list) list.push(def);
    else byName.set(def.fullName, [def]);
  }
  for (const list of byName.values()) if (list.length > 1) list.sort((a, b) => a.rank - b.rank);

  const ref = (name: string, fromLayer: string): Def | undefined => {
    const list = byName.get(name);
    if (!list) return undefined;
    for (const d of list) if (d.access !== "private" || d.layer === fromLayer) return d;
    return undefined;
  };

  const visible = new Map<string, Def>();
  const appLayer = order[0]!;
  for (const [name, list] of byName) {
    const d = ref(name, appLayer);
    if (d) visible.set(name, d);
    if (list.length > 1) linkShadows(list, problems);
  }

  for (const def of all) kindOf(def, ref, problems, []);
  for (const def of all) linkChain(def, problems, []);
  return { byName, visible, all };
}

function toDef(raw: RawElement, rank: number, problems: Problem[]): Def | undefined {
  const decl = raw.decl;
  if (decl === undefined) return undefined; // JSON_MALFORMED already recorded
  if (!validateElement(decl)) {
    for (const err of validateElement.errors ?? []) {
      const { pointer, reason } = describeAjvError(err);
      problems.push(problem("SCHEMA_INVALID", { file: raw.file, pointer: `#${pointer}`, reason }, { file: raw.file, pointer }));
    }
  }
  for (const { pointer, reason } of rateLimitProblems(decl)) {
    problems.push(problem("SCHEMA_INVALID", { file: raw.file, pointer: `#${pointer}`, reason }, { file: raw.file, pointer }));
  }
  if (typeof decl !== "object" || decl === null || Array.isArray(decl)) return undefined;
  const record = decl as Record<string, unknown>;
  if (typeof record.type !== "string") return undefined;
  const access = (typeof record.accessModifier === "string" ? record.accessModifier : "public") as AccessModifier;
  return {
    raw,
    fullName: raw.fullName,
    layer: raw.layer,
    rank,
    file: raw.file,
    decl: record,
    type: record.type,
    access,
    ok: true,
    kindState: 0,
    chainState: 0,
  };
}

/** Each definition overrides the nearest lower one it can see (private ones are not seen). */
function linkShadows(list: Def[], problems: Problem[]): void {
  for (let i = 0; i < list.length; i++) {
    const d = list[i]!;
    for (let j = i + 1; j < list.length; j++) {
      const lower = list[j]!;
      if (lower.access === "private") continue;
      d.shadow = lower;
      if (lower.access === "protected") {
        problems.push(
          problem("OVERRIDE_PROTECTED", { file: d.file, fullName: d.fullName, layer: lower.layer, otherFile: lower.file }, { file: d.file, pointer: "" }),
        );
      } else if (d.type !== lower.type) {
        // The chain of an override runs through the definition it overrides, so a different
        // `type` here would be ignored: say so instead of dropping it.
        problems.push(
          problem(
            "OVERRIDE_TYPE_CHANGED",
            { file: d.file, fullName: d.fullName, type: d.type, otherType: lower.type, otherFile: lower.file },
            { file: d.file, pointer: "/type" },
          ),
        );
      }
      break;
    }
  }
}

function kindOf(def: Def, ref: (name: string, from: string) => Def | undefined, problems: Problem[], stack: Def[]): void {
  if (def.kindState === 2) return;
  if (def.kindState === 1) {
    const loop = stack.slice(stack.indexOf(def));
    problems.push(
      problem("TYPE_CYCLE", { file: def.file, fullName: def.fullName, chain: [...loop, def].map((d) => d.fullName).join(" -> ") }, { file: def.file, pointer: "/type" }),
    );
    for (const d of loop) d.ok = false;
    return;
  }
  if (def.type === "") {
    def.kind = "meta";
    def.kindState = 2;
    return;
  }
  def.kindState = 1;
  stack.push(def);
  const target = ref(def.type, def.layer);
  if (!target) {
    def.ok = false;
    problems.push(problem("TYPE_NOT_FOUND", { file: def.file, type: def.type, fullName: def.fullName }, { file: def.file, pointer: "/type" }));
  } else {
    def.typeDef = target;
    kindOf(target, ref, problems, stack);
    if (!target.ok || target.kind === undefined) def.ok = false;
    if (target.kind === "instance") {
      def.ok = false;
      problems.push(
        problem("INSTANCE_AS_TYPE", { file: def.file, fullName: def.fullName, type: def.type, typeFile: target.file, hint: typeHint(target) }, { file: def.file, pointer: "/type" }),
      );
    } else if (target.kind !== undefined) {
      const isType = def.decl.isType;
      if (isType === true) def.kind = "type";
      else if (target.kind === "meta") {
        // Only instances carry a business config file; a Type never does.
        const declaresInstance = isType === false || typeof def.decl.frontBundleEntry === "string";
        def.kind = declaresInstance ? "instance" : "type";
        if (declaresInstance) {
          problems.push(
            problem("META_AS_INSTANCE_TYPE", { file: def.file, fullName: def.fullName, type: def.type }, { file: def.file, pointer: "/type" }),
          );
        }
      } else def.kind = "instance";
    }
  }
  stack.pop();
  def.kindState = 2;
}

/** Links each definition to its class parent and rejects loops through overrides. */
function linkChain(def: Def, problems: Problem[], stack: Def[]): void {
  if (def.chainState === 2) return;
  if (def.chainState === 1) {
    const loop = stack.slice(stack.indexOf(def));
    if (loop.every((d) => d.ok)) {
      problems.push(
        problem("TYPE_CYCLE", { file: def.file, fullName: def.fullName, chain: [...loop, def].map((d) => `${d.fullName}@${d.layer}`).join(" -> ") }, { file: def.file, pointer: "/type" }),
      );
    }
    for (const d of loop) d.ok = false;
    return;
  }
  def.chainState = 1;
  stack.push(def);
  const next = def.shadow ?? def.typeDef;
  if (next) {
    def.next = next;
    linkChain(next, problems, stack);
    if (!next.ok) def.ok = false;
  }
  stack.pop();
  def.chainState = 2;
}

/**
 * An instance that carries code or a functionList was most likely meant as a Type that
 * extends a Type, which must say so: without `"isType": true` it counts as an instance.
 */
function typeHint(target: Def): string {
  const hasCode = target.raw.files.some((name) => /^index\.(ts|mts|js|mjs)$/.test(name));
  if (!hasCode && !Array.isArray(target.decl.functionList)) return "";
  return `; ${target.fullName} carries ${hasCode ? "code" : "a functionList"}: a Type that extends a Type must declare "isType": true in its e.json`;
}
