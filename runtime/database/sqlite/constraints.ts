import Database from "better-sqlite3";
import type { ConstraintViolation } from "../types.ts";

/**
 * SQLite reports a violated UNIQUE rule by its columns ("UNIQUE constraint failed: t.a, t.b"),
 * not by name. The name is found where SQLite keeps it: the unique index over exactly those
 * columns (`CREATE UNIQUE INDEX <name> …`). A rule declared inline (`CONSTRAINT x UNIQUE`)
 * gets an automatic index named sqlite_autoindex_…, so a family that wants its rule reported
 * by name declares it as a named unique index (docs/databases.md). CHECK rules are named in
 * the message itself; foreign keys are not named by SQLite at all.
 */
export function sqliteConstraint(db: Database.Database, err: unknown, cache: Map<string, string | null>): ConstraintViolation | null {
  if (!(err instanceof Database.SqliteError) && !isWireConstraint(err)) return null;
  const code = (err as { code?: string }).code ?? "";
  const message = (err as Error).message;
  if (code === "SQLITE_CONSTRAINT_FOREIGNKEY") return { kind: "foreign_key", constraint: null, table: null };
  if (code === "SQLITE_CONSTRAINT_CHECK") {
    const name = /CHECK constraint failed: (\w+)/.exec(message)?.[1] ?? null;
    return { kind: "check", constraint: name, table: null };
  }
  if (code === "SQLITE_CONSTRAINT_NOTNULL") {
    const table = /NOT NULL constraint failed: (\w+)\./.exec(message)?.[1] ?? null;
    return { kind: "not_null", constraint: null, table };
  }
  if (code !== "SQLITE_CONSTRAINT_UNIQUE" && code !== "SQLITE_CONSTRAINT_PRIMARYKEY") return null;
  const columns = /constraint failed: (.+)$/.exec(message)?.[1]?.split(",").map((c) => c.trim()) ?? [];
  const table = columns[0]?.split(".")[0] ?? null;
  if (table === null) return { kind: "unique", constraint: null, table: null };
  const key = `${table}(${columns.map((c) => c.slice(table.length + 1)).join(",")})`;
  if (!cache.has(key)) cache.set(key, uniqueIndexNamed(db, table, columns.map((c) => c.slice(table.length + 1))));
  return { kind: "unique", constraint: cache.get(key) ?? null, table };
}

function isWireConstraint(err: unknown): boolean {
  const code = (err as { code?: unknown } | null)?.code;
  return err instanceof Error && typeof code === "string" && code.startsWith("SQLITE_CONSTRAINT");
}

function uniqueIndexNamed(db: Database.Database, table: string, columns: string[]): string | null {
  if (!/^\w+$/.test(table)) return null;
  const wanted = [...columns].sort().join(",");
  const indexes = db.pragma(`index_list(${table})`) as { name: string; unique: number; partial: number }[];
  for (const index of indexes) {
    if (!index.unique) continue;
    const cols = (db.pragma(`index_info(${JSON.stringify(index.name)})`) as { name: string }[]).map((c) => c.name);
    if ([...cols].sort().join(",") === wanted) return index.name;
  }
  return null;
}
