import { createHash } from "node:crypto";
import { DATA_TYPES, valueProblem, type FieldDecl } from "./fields.ts";

/**
 * A model's declaration as the family works on it: its fields, its primary key, its table
 * and index names. Built from an e.json that passed e.schema.json and declarationProblems.
 */

export interface ModelSchema {
  fullName: string;
  /** The table: the fullName itself, quoted. Families' tables have no dot, so none can collide. */
  table: string;
  fields: FieldDecl[];
  byName: ReadonlyMap<string, FieldDecl>;
  pk: FieldDecl;
  unionUniqueList: string[][];
  /** A databases.* element named by the declaration, or undefined for the app's default. */
  db?: string;
}

/** PostgreSQL cuts identifiers at 63 bytes; a table name is never cut silently. */
export const MAX_IDENTIFIER = 63;

export function buildSchema(fullName: string, declared: Record<string, unknown>): ModelSchema {
  const fields = (declared.fields as FieldDecl[]).map((f) => ({ ...f }));
  const pk = fields.find((f) => f.primaryKey)!;
  return {
    fullName,
    table: fullName,
    fields,
    byName: new Map(fields.map((f) => [f.name, f])),
    pk,
    unionUniqueList: ((declared.unionUniqueList as string[][] | undefined) ?? []).map((list) => [...list]),
    ...(typeof declared.db === "string" ? { db: declared.db } : {}),
  };
}

/**
 * An index's name: unique across the database (PostgreSQL's index names share the schema's
 * namespace), at most 63 bytes, stable for the same model and columns.
 */
export function indexName(table: string, kind: "u" | "i", columns: readonly string[]): string {
  const plain = `${table}.${kind}.${columns.join(".")}`;
  if (Buffer.byteLength(plain) <= MAX_IDENTIFIER) return plain;
  const hash = createHash("sha256").update(plain).digest("hex").slice(0, 10);
  return `${plain.slice(0, MAX_IDENTIFIER - 12)}~${hash}`;
}

interface Issue {
  pointer: string;
  reason: string;
}

const INDEXABLE = new Set(["AutoInt", "Stext", "Numeric", "Money", "Datetime", "Date"]);
const PRIMARY_KEY_TYPES = new Set(["AutoInt", "Numeric", "Stext"]);

/**
 * What e.schema.json cannot say about a model's e.json: one primary key, options that fit
 * the data type, a default that is a value of its field, names that repeat. Each problem
 * with its JSON pointer; the loader adds the file.
 */
export function modelDeclarationProblems(fullName: string, decl: Record<string, unknown>): Issue[] {
  const issues: Issue[] = [];
  if (Buffer.byteLength(fullName) > MAX_IDENTIFIER) {
    issues.push({ pointer: "", reason: `a model's fullName names its table and must be at most ${MAX_IDENTIFIER} bytes` });
  }
  const fields = decl.fields;
  if (!Array.isArray(fields)) {
    issues.push({ pointer: "/fields", reason: "is required: a model declares its fields" });
    return issues;
  }
  const seen = new Map<string, number>();
  const pks: number[] = [];
  fields.forEach((raw, i) => {
    if (raw === null || typeof raw !== "object") return;
    const f = raw as FieldDecl;
    const at = `/fields/${i}`;
    if (typeof f.name !== "string" || !(DATA_TYPES as readonly string[]).includes(f.dataType)) return; // e.schema.json said why
    // SQLite's column names ignore case: "Item" and "item" would be one column there.
    const key = f.name.toLowerCase();
    if (seen.has(key)) issues.push({ pointer: `${at}/name`, reason: `repeats the field name of /fields/${seen.get(key)} (names differ in more than case)` });
    else seen.set(key, i);
    if (f.primaryKey) pks.push(i);
    if (f.primaryKey && !PRIMARY_KEY_TYPES.has(f.dataType)) issues.push({ pointer: `${at}/primaryKey`, reason: `a primary key is AutoInt, Numeric or Stext, not ${f.dataType}` });
    if (f.dataType === "AutoInt" && !f.primaryKey) issues.push({ pointer: `${at}/dataType`, reason: "AutoInt is only for the primary key (the database numbers the rows)" });
    if (f.maxLength !== undefined && f.dataType !== "Stext" && f.dataType !== "Ltext") {
      issues.push({ pointer: `${at}/maxLength`, reason: `applies to Stext and Ltext only, not ${f.dataType}` });
    }
    for (const option of ["unique", "dbIndex"] as const) {
      if (f[option] && !INDEXABLE.has(f.dataType)) issues.push({ pointer: `${at}/${option}`, reason: `${f.dataType} cannot be indexed; ${option} applies to short values only` });
    }
    if (f.default !== undefined) {
      if (f.primaryKey) issues.push({ pointer: `${at}/default`, reason: "a primary key has no default" });
      else if (f.default !== null) {
        const reason = valueProblem(f, f.default);
        if (reason !== null) issues.push({ pointer: `${at}/default`, reason });
      }
    }
    if (f.renamedFrom !== undefined && f.renamedFrom.toLowerCase() === key) issues.push({ pointer: `${at}/renamedFrom`, reason: "names the field itself" });
  });
  if (pks.length === 0) issues.push({ pointer: "/fields", reason: 'needs one field with "primaryKey": true (e.g. { "name": "id", "dataType": "AutoInt", "primaryKey": true })' });
  for (const i of pks.slice(1)) issues.push({ pointer: `/fields/${i}/primaryKey`, reason: `a model has one primary key, and /fields/${pks[0]} is one already` });
  fields.forEach((raw, i) => {
    const from = (raw as FieldDecl | null)?.renamedFrom;
    if (typeof from === "string" && seen.has(from.toLowerCase())) {
      issues.push({ pointer: `/fields/${i}/renamedFrom`, reason: `names "${from}", which is still a declared field` });
    }
  });
  const unions = decl.unionUniqueList;
  if (Array.isArray(unions)) {
    unions.forEach((list, i) => {
      if (!Array.isArray(list)) return;
      list.forEach((name, j) => {
        const field = fields.find((f) => (f as FieldDecl | null)?.name === name) as FieldDecl | undefined;
        if (!field) issues.push({ pointer: `/unionUniqueList/${i}/${j}`, reason: `names no declared field` });
        else if (!INDEXABLE.has(field.dataType)) issues.push({ pointer: `/unionUniqueList/${i}/${j}`, reason: `${field.dataType} cannot be part of a unique index` });
      });
    });
  }
  return issues;
}
