import type { AppManifest } from "./apps.ts";
import type { Def } from "./model.ts";

/** Two apps of the lookup order that define one fullName while neither extends the other. */
export interface SiblingOverride {
  fullName: string;
  /** The app whose definition wins (first in the lookup order). */
  winner: string;
  /** The app whose definition it hides without either app saying so. */
  loser: string;
  /** The e.json of each. */
  winnerFile: string;
  loserFile: string;
}

/** The warning line, naming both files and the winner (printed by validate, dev and serve). */
export function describeSiblingOverride(o: SiblingOverride): string {
  return (
    `warning: ${o.fullName} is overridden by two apps, neither extending the other: ` +
    `${o.winnerFile} (app ${o.winner}) wins, being first in extends order; ${o.loserFile} (app ${o.loser}) is hidden`
  );
}

/**
 * Definitions that lose silently: when an app extends two apps that both define an element
 * (a diamond), the first parent in `extends` wins and the other's definition is only
 * shadowed, which neither of them asked for (Frappe warns about two apps overriding one
 * doctype for the same reason). An app overriding what an app it extends defines is not one.
 */
export function siblingOverrides(defs: readonly Def[], order: readonly string[], manifests: ReadonlyMap<string, AppManifest>): SiblingOverride[] {
  const ancestors = new Map<string, Set<string>>();
  const ancestorsOf = (appId: string): Set<string> => {
    let found = ancestors.get(appId);
    if (!found) {
      found = new Set();
      ancestors.set(appId, found); // before recursing: extends cycles are reported elsewhere
      for (const parent of manifests.get(appId)?.extends ?? []) {
        found.add(parent);
        for (const above of ancestorsOf(parent)) found.add(above);
      }
    }
    return found;
  };
  const appsByName = new Map<string, string[]>();
  const fileOf = new Map<string, string>();
  const rank = new Map(order.map((layer, i) => [layer, i]));
  for (const def of defs) {
    if (!manifests.has(def.layer)) continue; // the root's and the platform's layers
    const apps = appsByName.get(def.fullName) ?? [];
    apps.push(def.layer);
    appsByName.set(def.fullName, apps);
    fileOf.set(def.layer + "\0" + def.fullName, def.file);
  }
  const out: SiblingOverride[] = [];
  for (const [fullName, apps] of appsByName) {
    if (apps.length < 2) continue;
    const sorted = [...apps].sort((a, b) => rank.get(a)! - rank.get(b)!);
    const winner = sorted[0]!;
    for (const loser of sorted.slice(1)) {
      if (!ancestorsOf(winner).has(loser) && !ancestorsOf(loser).has(winner)) {
        out.push({ fullName, winner, loser, winnerFile: fileOf.get(winner + "\0" + fullName)!, loserFile: fileOf.get(loser + "\0" + fullName)! });
      }
    }
  }
  return out;
}
