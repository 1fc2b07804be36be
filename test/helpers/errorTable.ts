import { readdirSync } from "node:fs";
import path from "node:path";
import { fileURLToPath, pathToFileURL } from "node:url";
import { mergeErrorTables, RUNTIME_ERRORS, type ErrorTableSource, type MergedErrorCode } from "../../runtime/errors/codes.ts";
import { FAMILY_FILES } from "../../runtime/family/load.ts";
import type { FamilyDefinition } from "../../runtime/family/types.ts";

const ELEMENTS = fileURLToPath(new URL("../../elements", import.meta.url));

/** Every family module of the platform layer, as the loader finds them: a family file beside a Meta's e.json. */
export function platformFamilyFiles(root = ELEMENTS): string[] {
  const out: string[] = [];
  const visit = (dir: string) => {
    const entries = readdirSync(dir, { withFileTypes: true });
    const names = new Set(entries.filter((e) => e.isFile()).map((e) => e.name));
    const family = FAMILY_FILES.find((f) => names.has(f));
    if (names.has("e.json") && family) out.push(path.join(dir, family));
    for (const e of entries) if (e.isDirectory()) visit(path.join(dir, e.name));
  };
  visit(root);
  return out.sort();
}

/**
 * Every code the package can answer: the runtime's and each platform family's, merged as the
 * loader merges them (a duplicate throws, naming both owners).
 */
export async function platformErrorTable(): Promise<ReadonlyMap<string, MergedErrorCode>> {
  const sources: ErrorTableSource[] = [RUNTIME_ERRORS];
  for (const file of platformFamilyFiles()) {
    const family = (await import(pathToFileURL(file).href)).default as FamilyDefinition;
    if (family.errors) sources.push({ owner: path.relative(ELEMENTS, path.dirname(path.dirname(file))).split(path.sep).join("."), file, codes: family.errors });
  }
  const { table, clashes } = mergeErrorTables(sources);
  if (clashes.length > 0) throw new Error(clashes.map((d) => `${d.code}: ${d.first.owner} and ${d.second.owner}`).join("; "));
  return table;
}
