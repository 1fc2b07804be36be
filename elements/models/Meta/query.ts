import type { Dialect, JitError, SqlValue } from "jit-runtime/element";
import { ModelError } from "./errors.ts";
import { toDb, valueProblem, type FieldDecl } from "./fields.ts";
import type { ModelSchema } from "./schema.ts";

/**
 * Structured filters, orderings and pages compiled to SQL with `?` parameters. Field names
 * are checked against the declaration and written as quoted identifiers the declaration
 * allows ([A-Za-z][A-Za-z0-9_]*); every value is checked against its field and travels as a
 * parameter. Nothing a caller sends becomes SQL text.
 */

export type Operator = "=" | "!=" | ">" | ">=" | "<" | "<=" | "in" | "like" | "isnull";
export const OPERATORS: readonly Operator[] = ["=", "!=", ">", ">=", "<", "<=", "in", "like", "isnull"];

export interface QueryArgs {
  filter?: Record<string, unknown>;
  orderList?: Array<[string, 1 | -1]>;
  page?: number;
  size?: number;
}

export const MAX_PAGE_SIZE = 1000;
export const DEFAULT_PAGE_SIZE = 20;
const MAX_IN_VALUES = 1000;
const MAX_ORDER_KEYS = 8;
const ORDERED = new Set(["AutoInt", "Stext", "Numeric", "Money", "Datetime", "Date"]);
const TEXT = new Set(["Stext", "Ltext"]);

export function quoteId(name: string): string {
  return `"${name.replace(/"/g, '""')}"`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function fieldOf(schema: ModelSchema, name: string, where: string): FieldDecl {
  const field = schema.byName.get(name);
  if (!field) throw new ModelError("MODEL_FIELD_UNKNOWN", { model: schema.fullName, field: name, where });
  return field;
}

function filterError(schema: ModelSchema, field: string, reason: string): JitError {
  return new ModelError("MODEL_FILTER_INVALID", { model: schema.fullName, field, reason });
}

function operand(schema: ModelSchema, field: FieldDecl, op: string, value: unknown, dialect: Dialect): SqlValue {
  const reason = valueProblem(field, value);
  if (reason !== null) throw filterError(schema, field.name, `the value of "${op}" ${reason}`);
  return toDb(field, value, dialect);
}

function condition(schema: ModelSchema, field: FieldDecl, op: string, value: unknown, dialect: Dialect, params: SqlValue[]): string {
  const col = quoteId(field.name);
  if (!(OPERATORS as readonly string[]).includes(op)) {
    throw filterError(schema, field.name, `unknown operator (use one of ${OPERATORS.join(", ")})`);
  }
  if (field.dataType === "JitDict" && op !== "isnull") throw filterError(schema, field.name, "a JitDict field can only be filtered with isnull");
  switch (op) {
    case "isnull":
      if (typeof value !== "boolean") throw filterError(schema, field.name, "isnull takes true or false");
      return `${col} IS ${value ? "" : "NOT "}NULL`;
    case "=":
      if (value === null) return `${col} IS NULL`;
      params.push(operand(schema, field, op, value, dialect));
      return `${col} = ?`;
    case "!=":
      if (value === null) return `${col} IS NOT NULL`;
      params.push(operand(schema, field, op, value, dialect));
      // Rows whose value is null are "not equal" too (plain SQL != would drop them).
      return dialect === "postgres" ? `${col} IS DISTINCT FROM ?` : `${col} IS NOT ?`;
    case "in": {
      if (!Array.isArray(value) || value.length === 0 || value.length > MAX_IN_VALUES) {
        throw filterError(schema, field.name, `in takes a list of 1 to ${MAX_IN_VALUES} values`);
      }
      for (const item of value) params.push(operand(schema, field, op, item, dialect));
      return `${col} IN (${value.map(() => "?").join(", ")})`;
    }
    case "like":
      if (!TEXT.has(field.dataType)) throw filterError(schema, field.name, `like applies to Stext and Ltext, not ${field.dataType}`);
      if (typeof value !== "string" || value.length > 4096) throw filterError(schema, field.name, "like takes a pattern string (% any run, _ one character)");
      params.push(value);
      return `${col} LIKE ?`;
    default: {
      if (!ORDERED.has(field.dataType)) throw filterError(schema, field.name, `${op} applies to ordered types, not ${field.dataType}`);
      params.push(operand(schema, field, op, value, dialect));
      return `${col} ${op} ?`;
    }
  }
}

/**
 * `{ userId: 3, qty: { ">=": 2, "<": 10 } }` → `"userId" = ? AND "qty" >= ? AND "qty" < ?`.
 * Conditions are ANDed; an empty or missing filter matches every row ("" is returned).
 */
export function compileFilter(schema: ModelSchema, filter: unknown, dialect: Dialect, params: SqlValue[]): string {
  if (filter === undefined || filter === null) return "";
  if (!isPlainObject(filter)) throw new ModelError("MODEL_QUERY_INVALID", { model: schema.fullName, argument: "filter", reason: "must be an object of field conditions, e.g. { userId: 3, qty: { \">=\": 2 } }" });
  const parts: string[] = [];
  for (const [name, spec] of Object.entries(filter)) {
    const field = fieldOf(schema, name, " (in the filter)");
    if (isPlainObject(spec)) {
      const ops = Object.entries(spec);
      if (ops.length === 0) throw filterError(schema, name, "names no operator");
      for (const [op, value] of ops) parts.push(condition(schema, field, op, value, dialect, params));
    } else {
      parts.push(condition(schema, field, "=", spec, dialect, params));
    }
  }
  return parts.join(" AND ");
}

export function compileOrder(schema: ModelSchema, orderList: unknown): string {
  if (orderList === undefined || orderList === null) return `ORDER BY ${quoteId(schema.pk.name)}`;
  const bad = (reason: string) => new ModelError("MODEL_QUERY_INVALID", { model: schema.fullName, argument: "orderList", reason });
  if (!Array.isArray(orderList) || orderList.length > MAX_ORDER_KEYS) throw bad(`must be a list of at most ${MAX_ORDER_KEYS} [field, 1 | -1] pairs`);
  const keys = orderList.map((entry) => {
    if (!Array.isArray(entry) || entry.length !== 2 || typeof entry[0] !== "string" || (entry[1] !== 1 && entry[1] !== -1)) {
      throw bad('each entry is [field, 1] (ascending) or [field, -1] (descending), e.g. [["createdAt", -1]]');
    }
    const field = fieldOf(schema, entry[0], " (in orderList)");
    if (!ORDERED.has(field.dataType) && field.dataType !== "Ltext") throw bad(`${field.name} is ${field.dataType}, which has no order`);
    return `${quoteId(field.name)} ${entry[1] === -1 ? "DESC" : "ASC"}`;
  });
  // The primary key last, so pages never overlap or skip rows that tie on every key.
  if (!orderList.some((entry) => entry[0] === schema.pk.name)) keys.push(quoteId(schema.pk.name));
  return `ORDER BY ${keys.join(", ")}`;
}

export function pageOf(schema: ModelSchema, page: unknown, size: unknown): { limit: number; offset: number } {
  const bad = (argument: string, reason: string) => new ModelError("MODEL_QUERY_INVALID", { model: schema.fullName, argument, reason });
  const p = page ?? 1;
  const s = size ?? DEFAULT_PAGE_SIZE;
  if (!Number.isSafeInteger(p) || (p as number) < 1) throw bad("page", "must be a whole number from 1");
  if (!Number.isSafeInteger(s) || (s as number) < 1 || (s as number) > MAX_PAGE_SIZE) throw bad("size", `must be a whole number from 1 to ${MAX_PAGE_SIZE}`);
  return { limit: s as number, offset: ((p as number) - 1) * (s as number) };
}

export interface CompiledQuery {
  select: { sql: string; params: SqlValue[] };
  count: { sql: string; params: SqlValue[] };
}

/** A page of rows and the count of every row the filter matches, checked before any SQL runs. */
export function compileQuery(schema: ModelSchema, args: unknown, dialect: Dialect): CompiledQuery {
  if (args !== undefined && args !== null && !isPlainObject(args)) {
    throw new ModelError("MODEL_QUERY_INVALID", { model: schema.fullName, argument: "query", reason: "takes { filter, orderList, page, size }" });
  }
  const { filter, orderList, page, size, ...rest } = (args ?? {}) as Record<string, unknown>;
  const unknown = Object.keys(rest)[0];
  if (unknown !== undefined) {
    throw new ModelError("MODEL_QUERY_INVALID", { model: schema.fullName, argument: "query", reason: "takes only filter, orderList, page and size" });
  }
  const params: SqlValue[] = [];
  const where = compileFilter(schema, filter, dialect, params);
  const order = compileOrder(schema, orderList);
  const { limit, offset } = pageOf(schema, page, size);
  const from = `FROM ${quoteId(schema.table)}${where ? ` WHERE ${where}` : ""}`;
  return {
    select: { sql: `SELECT * ${from} ${order} LIMIT ? OFFSET ?`, params: [...params, limit, offset] },
    count: { sql: `SELECT count(*) AS n ${from}`, params },
  };
}
