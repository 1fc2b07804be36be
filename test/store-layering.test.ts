import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The PostgreSQL store must load without SQLite: an install where better-sqlite3 did not
 * build (no compiler, an odd platform) still serves from PostgreSQL. Follows the static
 * imports from the store's entry and lists every module and package it reaches.
 */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

function reachable(entry: string): { files: Set<string>; packages: Set<string> } {
  const files = new Set<string>();
  const packages = new Set<string>();
  const visit = (file: string) => {
    if (files.has(file)) return;
    files.add(file);
    const text = readFileSync(file, "utf8");
    // Static imports and re-exports only: a dynamic import() is loaded when called, not with the module.
    for (const [, spec] of text.matchAll(/^\s*(?:import|export)\s[^;]*?from\s+"([^"]+)"/gms)) {
      if (spec!.startsWith(".")) visit(path.resolve(path.dirname(file), spec!));
      else packages.add(spec!.startsWith("@") ? spec!.split("/").slice(0, 2).join("/") : spec!.split("/")[0]!);
    }
  };
  visit(entry);
  return { files, packages };
}

describe("store layering", () => {
  it("the PostgreSQL store reaches no SQLite module and not better-sqlite3", () => {
    const { files, packages } = reachable(path.join(REPO, "elements/auths/storage/postgres/index.ts"));
    expect(files.size).toBeGreaterThan(5); // the walk followed the store's own modules
    expect([...files].map((f) => path.relative(REPO, f)).filter((f) => f.includes("/sqlite/"))).toEqual([]);
    expect(packages).not.toContain("better-sqlite3");
    // It speaks to PostgreSQL through the runtime's database handle, never to pg itself.
    expect(packages).toContain("jit-runtime");
    expect(packages).not.toContain("pg");
  });
});
