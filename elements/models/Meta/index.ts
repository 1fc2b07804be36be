import { AsyncLocalStorage } from "node:async_hooks";
import { ElementBase, isJitError, type AppContext, type Database, type Queryable, type RunResult, type SqlValue, type Transaction, type WriteUnits } from "jit-runtime/element";
import { ModelError } from "./errors.ts";
import { indexesOf } from "./ddl.ts";
import { checkValue, readerOf, toDb, type FieldDecl } from "./fields.ts";
import { migrateModels, upToDate } from "./migrations.ts";
import { compileFilter, compileQuery, quoteId, type QueryArgs } from "./query.ts";
import { buildSchema, type ModelSchema } from "./schema.ts";

/**
 * The base class of models (models.*): a table of the app's database, one column per
 * declared field, with JitAi's method names. Every value is checked against its field
 * before any SQL is built (fields.ts), filters are structured (query.ts), and the table
 * follows the declaration through migrations that never lose data (migrations.ts).
 * docs/models.md is the developer's guide.
 */

export type ModelRow = Record<string, unknown>;

export interface QueryResult<R = ModelRow> {
  rowDatas: R[];
  totalCount: number;
}

const MODEL_META = "models.Meta";

/**
 * The transaction a call of Model.transaction opened, for every model call inside it (the
 * handle hands a transaction to its work; model methods take none, so they find it here).
 */
const activeTransaction = new AsyncLocalStorage<Transaction>();

/** Where a read goes: the open transaction of this call, else the handle. */
function reader(db: Database): Queryable {
  return activeTransaction.getStore() ?? db;
}

/** The family's write units on each SQLite handle (sqliteWrites.ts), loaded once. */
const unitsOf = new WeakMap<Database, Promise<WriteUnits>>();
const WRITES = new URL(import.meta.url.endsWith(".ts") ? "./sqliteWrites.ts" : "./sqliteWrites.js", import.meta.url);

function sqliteUnits(db: Database): Promise<WriteUnits> {
  let units = unitsOf.get(db);
  if (!units) {
    units = db.writeUnits(WRITES);
    unitsOf.set(db, units);
    units.catch(() => unitsOf.delete(db));
  }
  return units;
}

/**
 * A write of one statement, durable when it resolves: inside the call's transaction when
 * Model.transaction opened one; on SQLite as a write unit in the handle's group commit (the
 * writes of one event-loop turn share a commit and an fsync); on PostgreSQL as one statement.
 * `returning`: the statement has RETURNING, and the row it wrote comes back.
 */
async function write(db: Database, sql: string, params: SqlValue[], returning: true): Promise<Record<string, unknown> | undefined>;
async function write(db: Database, sql: string, params: SqlValue[], returning: false): Promise<RunResult>;
async function write(db: Database, sql: string, params: SqlValue[], returning: boolean): Promise<unknown> {
  const tx = activeTransaction.getStore();
  if (tx) return returning ? tx.get(sql, params) : tx.run(sql, params);
  if (db.dialect === "sqlite") return (await sqliteUnits(db)).run(returning ? "writeReturning" : "write", sql, params);
  return returning ? db.get(sql, params) : db.run(sql, params);
}

/** The declarations of every model the app sees. */
export function modelSchemas(app: AppContext): ModelSchema[] {
  return app.findElements({ type: MODEL_META }).map((d) => buildSchema(d.fullName, d.declared));
}

/**
 * The models by the database they live in: the one their `db` names, else the app's default
 * (the key ""). The default comes first.
 */
export function byDatabase(schemas: readonly ModelSchema[]): Map<string, ModelSchema[]> {
  const groups = new Map<string, ModelSchema[]>([["", []]]);
  for (const schema of schemas) {
    const key = schema.db ?? "";
    groups.set(key, [...(groups.get(key) ?? []), schema]);
  }
  if (groups.get("")!.length === 0) groups.delete("");
  return groups;
}

/** The handle of a group of byDatabase: `""` is the app's default database. */
export function databaseOf(app: AppContext, key: string): Promise<Database> {
  return key === "" ? app.getDatabase() : app.getDatabase(key);
}

const migrated = new WeakMap<AppContext, Promise<void>>();

/**
 * Brings every model's table up to its declaration once per app: the safe steps are applied,
 * an unsafe one stops with MIGRATION_UNSAFE (naming the step and the command that confirms
 * it) and nothing is changed. `jit serve` calls it at start; a model calls it on first use.
 * A failure is not kept: the next call tries again (after `jit migrate --confirm`, say).
 */
export function ensureModelsMigrated(app: AppContext): Promise<void> {
  let done = migrated.get(app);
  if (!done) {
    done = (async () => {
      for (const [key, schemas] of byDatabase(modelSchemas(app))) {
        const db = await databaseOf(app, key);
        if (await upToDate(db, schemas)) continue;
        const { applied } = await migrateModels(db, schemas);
        for (const step of applied) app.logger.info({ model: step.model, step: step.kind }, `migrated: ${step.summary}`);
      }
    })();
    migrated.set(app, done);
    done.catch(() => migrated.delete(app));
  }
  return done;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

export class Model extends ElementBase {
  #schema: ModelSchema | undefined;
  /** The database once the tables are known to be up to date: later calls skip two awaits. */
  #ready: Database | undefined;
  #readers: { dialect: string; list: Array<[string, ((raw: unknown) => unknown) | null]> } | undefined;

  /** The declaration as the family uses it. */
  get schema(): ModelSchema {
    return (this.#schema ??= buildSchema(this.fullName, this.define.declared));
  }

  async #db(): Promise<Database> {
    if (this.#ready) return this.#ready;
    await ensureModelsMigrated(this.app);
    return (this.#ready = await databaseOf(this.app, this.schema.db ?? ""));
  }

  #invalid(field: string, reason: string) {
    return new ModelError("MODEL_VALUE_INVALID", { model: this.fullName, field, reason });
  }

  /** The columns and values of a row to write, every value checked; a create fills defaults and needs required fields. */
  #columns(row: unknown, mode: "create" | "update", dialect: Database["dialect"]): { names: string[]; values: SqlValue[] } {
    const schema = this.schema;
    if (!isPlainObject(row)) throw this.#invalid("(row)", `${mode === "create" ? "create" : "updateByPK"} takes an object of field values`);
    const names: string[] = [];
    const values: SqlValue[] = [];
    for (const [name, value] of Object.entries(row)) {
      const field = schema.byName.get(name);
      if (!field) throw new ModelError("MODEL_FIELD_UNKNOWN", { model: this.fullName, field: name, where: "" });
      if (field.primaryKey && (mode === "update" || field.dataType === "AutoInt")) {
        if (value === undefined) continue;
        throw this.#invalid(name, mode === "update" ? "is the primary key and cannot change" : "is numbered by the database; leave it out");
      }
      if (value === undefined) continue;
      if (value === null) {
        if (field.required || field.primaryKey) throw this.#invalid(name, "is required and cannot be null");
      } else checkValue(this.fullName, field, value);
      names.push(name);
      values.push(toDb(field, value, dialect));
    }
    if (mode === "create") {
      for (const field of schema.fields) {
        if (Object.prototype.hasOwnProperty.call(row, field.name) && row[field.name] !== undefined) continue;
        if (field.dataType === "AutoInt") continue;
        if (field.default !== undefined && field.default !== null) {
          names.push(field.name);
          values.push(toDb(field, field.default, dialect));
        } else if (field.required || field.primaryKey) throw this.#invalid(field.name, "is required");
      }
    }
    return { names, values };
  }

  #shape(raw: Record<string, unknown>, dialect: Database["dialect"]): ModelRow {
    if (this.#readers?.dialect !== dialect) this.#readers = { dialect, list: this.schema.fields.map((f) => [f.name, readerOf(f, dialect)]) };
    const out: ModelRow = {};
    // Declared fields only: the kept columns of removed fields stay in the table, not in rows.
    for (const [name, read] of this.#readers.list) {
      const value = raw[name];
      out[name] = value === undefined ? null : read === null ? value : read(value);
    }
    return out;
  }

  #pkParam(pk: unknown, dialect: Database["dialect"]): SqlValue {
    const field = this.schema.pk;
    if (pk === null || pk === undefined) throw this.#invalid(field.name, "is required (the primary key of the row)");
    checkValue(this.fullName, field, pk);
    return toDb(field, pk, dialect);
  }

  /** A unique index the write broke, as MODEL_UNIQUE_VIOLATION naming its fields; other errors as they are. */
  #translate(err: unknown, db: Database): unknown {
    if (isJitError(err)) return err;
    const violation = db.constraintOf(err);
    if (!violation || violation.kind !== "unique") return err;
    let fields: string[] = [this.schema.pk.name];
    const index = indexesOf(this.schema).find((i) => i.name === violation.constraint);
    if (index) fields = index.columns;
    else if (db.dialect === "sqlite") {
      // SQLite names the columns, as "<table>.<column>" (and the table name has a dot of its own).
      const prefix = `${this.schema.table}.`;
      const listed = /constraint failed: (.+)$/.exec((err as Error).message)?.[1]?.split(",").map((c) => c.trim()) ?? [];
      const named = listed.filter((c) => c.startsWith(prefix)).map((c) => c.slice(prefix.length));
      if (named.length > 0) fields = named;
    }
    return new ModelError("MODEL_UNIQUE_VIOLATION", { model: this.fullName, fields: fields.join(", ") });
  }

  /** Stores a row and returns it as stored (the primary key filled, defaults applied). */
  async create(row: ModelRow): Promise<ModelRow> {
    const db = this.#ready ?? (await this.#db());
    const { names, values } = this.#columns(row, "create", db.dialect);
    const table = quoteId(this.schema.table);
    const sql = names.length === 0
      ? `INSERT INTO ${table} DEFAULT VALUES RETURNING *`
      : `INSERT INTO ${table} (${names.map(quoteId).join(", ")}) VALUES (${names.map(() => "?").join(", ")}) RETURNING *`;
    try {
      return this.#shape((await write(db, sql, values, true))!, db.dialect);
    } catch (err) {
      throw this.#translate(err, db);
    }
  }

  /** The first row the filter matches (in primary-key order), or null. */
  async get(filter: Record<string, unknown> = {}): Promise<ModelRow | null> {
    const db = this.#ready ?? (await this.#db());
    const params: SqlValue[] = [];
    const where = compileFilter(this.schema, filter, db.dialect, params);
    const sql = `SELECT * FROM ${quoteId(this.schema.table)}${where ? ` WHERE ${where}` : ""} ORDER BY ${quoteId(this.schema.pk.name)} LIMIT 1`;
    const raw = await reader(db).get(sql, params);
    return raw ? this.#shape(raw, db.dialect) : null;
  }

  /** A page of rows (`page` from 1, `size` up to 1000, default 20) and the count of all that match. */
  async query(args: QueryArgs = {}): Promise<QueryResult> {
    const db = this.#ready ?? (await this.#db());
    const compiled = compileQuery(this.schema, args, db.dialect);
    // Both statements sent before either is awaited: on PostgreSQL each takes a pooled connection.
    const q = reader(db);
    const pending = q.all(compiled.select.sql, compiled.select.params);
    const counting = q.get<{ n: number | string }>(compiled.count.sql, compiled.count.params);
    counting.catch(() => undefined); // awaited below; a failure of the first must not leave this one unheard
    const rows = await pending;
    const counted = await counting;
    return { rowDatas: rows.map((r) => this.#shape(r, db.dialect)), totalCount: Number(counted?.n ?? 0) };
  }

  async count(filter: Record<string, unknown> = {}): Promise<number> {
    const db = this.#ready ?? (await this.#db());
    const params: SqlValue[] = [];
    const where = compileFilter(this.schema, filter, db.dialect, params);
    const row = await reader(db).get<{ n: number | string }>(`SELECT count(*) AS n FROM ${quoteId(this.schema.table)}${where ? ` WHERE ${where}` : ""}`, params);
    return Number(row?.n ?? 0);
  }

  /** Changes the given fields of one row and returns it as stored; MODEL_ROW_NOT_FOUND when there is none. */
  async updateByPK(pk: unknown, patch: ModelRow): Promise<ModelRow> {
    const db = this.#ready ?? (await this.#db());
    const key = this.#pkParam(pk, db.dialect);
    const { names, values } = this.#columns(patch, "update", db.dialect);
    const table = quoteId(this.schema.table);
    const where = `${quoteId(this.schema.pk.name)} = ?`;
    const sql = names.length === 0
      ? `SELECT * FROM ${table} WHERE ${where}`
      : `UPDATE ${table} SET ${names.map((n) => `${quoteId(n)} = ?`).join(", ")} WHERE ${where} RETURNING *`;
    let raw: Record<string, unknown> | undefined;
    try {
      raw = names.length === 0 ? await reader(db).get(sql, [key]) : await write(db, sql, [...values, key], true);
    } catch (err) {
      throw this.#translate(err, db);
    }
    if (!raw) throw new ModelError("MODEL_ROW_NOT_FOUND", { model: this.fullName, pk: this.schema.pk.name });
    return this.#shape(raw, db.dialect);
  }

  async deleteByPK(pk: unknown): Promise<{ deleted: 0 | 1 }> {
    const db = this.#ready ?? (await this.#db());
    const key = this.#pkParam(pk, db.dialect);
    const { changes } = await write(db, `DELETE FROM ${quoteId(this.schema.table)} WHERE ${quoteId(this.schema.pk.name)} = ?`, [key], false);
    return { deleted: changes > 0 ? 1 : 0 };
  }

  /**
   * `work` in one transaction of the app's database: every model call inside it (of this
   * model or another) commits together, or none does when `work` throws.
   */
  async transaction<T>(work: () => Promise<T>): Promise<T> {
    if (activeTransaction.getStore()) return work(); // nested: part of the outer one
    const db = this.#ready ?? (await this.#db());
    return db.transaction((tx) => activeTransaction.run(tx, work));
  }
}

export type { FieldDecl, ModelSchema, QueryArgs };
export default Model;
