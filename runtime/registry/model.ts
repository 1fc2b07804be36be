import type { ElementClass } from "../element/ElementBase.ts";
import type { AccessModifier, ElementDefine, ElementKind } from "../element/types.ts";
import type { RawElement } from "./walk.ts";

/** One definition of a fullName in one layer, as the resolver works on it. */
export interface Def {
  raw: RawElement;
  fullName: string;
  layer: string;
  /** Position of the layer in the lookup order (0 = the app itself). */
  rank: number;
  file: string;
  decl: Record<string, unknown>;
  type: string;
  access: AccessModifier;
  /** False when its chain cannot be resolved (missing type, loop, instance as type), here or below. */
  ok: boolean;
  kind?: ElementKind;
  /** The element named by `type`, as seen from this definition's layer. */
  typeDef?: Def;
  /** The lower-layer definition of the same fullName that this one overrides. */
  shadow?: Def;
  /** The class parent: `shadow` when there is one, else `typeDef` (Odoo's `_inherit`). */
  next?: Def;
  kindState: 0 | 1 | 2;
  chainState: 0 | 1 | 2;
  modulePath?: string;
  moduleExport?: unknown;
  cls?: ElementClass;
  config?: Record<string, unknown>;
  define?: ElementDefine;
}

/** The class-parent chain of a definition: itself first, its Meta last. */
export function chainOf(def: Def): Def[] {
  const out: Def[] = [];
  for (let d: Def | undefined = def; d; d = d.next) out.push(d);
  return out;
}
