import type { Dialect, SqlValue } from "jit-runtime/element";
import { ModelError } from "./errors.ts";

/**
 * The data types of a model's fields (JitAi's names) and how a value of each is checked on
 * the way in and shaped on the way out. One rule per type, the same on both databases: a
 * value a client sends is checked here, before any SQL is built, and travels as a parameter.
 */

export const DATA_TYPES = ["AutoInt", "Stext", "Ltext", "Numeric", "Money", "Datetime", "Date", "JitDict"] as const;
export type DataType = (typeof DATA_TYPES)[number];

export interface FieldDecl {
  name: string;
  title?: string;
  dataType: DataType;
  primaryKey?: boolean;
  required?: boolean;
  default?: unknown;
  unique?: boolean;
  dbIndex?: boolean;
  maxLength?: number;
  renamedFrom?: string;
}

/** Stext's maxLength when the declaration gives none. */
export const STEXT_MAX_LENGTH = 255;
/** Ltext and JitDict: a cap so one row cannot fill the database (characters / bytes of JSON). */
export const LTEXT_MAX_LENGTH = 1_000_000;
/** Money: up to 13 digits before the point and 2 after, so SQLite's cents fit a safe integer. */
const MONEY = /^(-?)(\d{1,13})(?:\.(\d{1,2}))?$/;
const DATE = /^(\d{4})-(\d{2})-(\d{2})$/;
/** Datetime: epoch milliseconds within what a JavaScript Date can hold. */
const MAX_EPOCH_MS = 8.64e15;

/** The maxLength a field's strings are held to (undefined: no limit of its own). */
export function maxLengthOf(field: FieldDecl): number | undefined {
  if (field.dataType === "Stext") return field.maxLength ?? STEXT_MAX_LENGTH;
  if (field.dataType === "Ltext") return field.maxLength ?? LTEXT_MAX_LENGTH;
  return undefined;
}

/** Characters as a database counts them (code points, not UTF-16 units). */
export function charLength(text: string): number {
  let n = text.length;
  for (let i = 0; i < text.length; i++) {
    const c = text.charCodeAt(i);
    if (c >= 0xd800 && c <= 0xdbff) n--;
  }
  return n;
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "an array";
  if (typeof value === "number" && !Number.isInteger(value)) return "a fractional number";
  return typeof value === "object" ? "an object" : `a ${typeof value}`;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  if (value === null || typeof value !== "object" || Array.isArray(value)) return false;
  const proto = Object.getPrototypeOf(value);
  return proto === Object.prototype || proto === null;
}

function validDate(text: string): boolean {
  const m = DATE.exec(text);
  if (!m) return false;
  const [y, mo, d] = [Number(m[1]), Number(m[2]), Number(m[3])];
  const date = new Date(Date.UTC(y, mo - 1, d));
  return y >= 1 && date.getUTCFullYear() === y && date.getUTCMonth() === mo - 1 && date.getUTCDate() === d;
}

/**
 * Why `value` is not a value of `field`, or null when it is. Null itself is checked by the
 * caller (required fields). Messages name the expected shape, never the value sent.
 */
export function valueProblem(field: FieldDecl, value: unknown): string | null {
  switch (field.dataType) {
    case "AutoInt":
      return Number.isSafeInteger(value) && (value as number) >= 1 ? null : `must be a positive whole number (an id), not ${describe(value)}`;
    case "Numeric":
      return Number.isSafeInteger(value) ? null : `must be a whole number (Numeric holds integers up to 2^53), not ${describe(value)}`;
    case "Datetime":
      return Number.isSafeInteger(value) && Math.abs(value as number) <= MAX_EPOCH_MS ? null : `must be epoch milliseconds (a whole number), not ${describe(value)}`;
    case "Money":
      if (typeof value === "string") return MONEY.test(value) ? null : 'must be a decimal string like "12.50" (at most 13 digits before the point and 2 after)';
      if (Number.isSafeInteger(value) && Math.abs(value as number) < 1e13) return null;
      return `must be a decimal string like "12.50" (never a fractional number: floats are not exact), not ${describe(value)}`;
    case "Date":
      return typeof value === "string" && validDate(value) ? null : "must be a date as YYYY-MM-DD";
    case "Stext":
    case "Ltext": {
      if (typeof value !== "string") return `must be a string, not ${describe(value)}`;
      if (value.includes("\u0000")) return "must not contain the NUL character";
      const max = maxLengthOf(field)!;
      return charLength(value) > max ? `is longer than its maxLength ${max}` : null;
    }
    case "JitDict": {
      if (!isPlainObject(value)) return `must be a JSON object, not ${describe(value)}`;
      let text: string;
      try {
        text = JSON.stringify(value);
      } catch {
        return "must be a JSON object (this one cannot be serialised)";
      }
      if (text.includes("\\u0000")) return "must not contain the NUL character";
      return text.length > LTEXT_MAX_LENGTH ? `is larger than ${LTEXT_MAX_LENGTH} characters of JSON` : null;
    }
  }
}

/** Throws MODEL_VALUE_INVALID unless `value` (not null) is a value of `field`. */
export function checkValue(model: string, field: FieldDecl, value: unknown): void {
  const reason = valueProblem(field, value);
  if (reason !== null) throw new ModelError("MODEL_VALUE_INVALID", { model, field: field.name, reason });
}

function moneyToCents(value: string | number): number {
  if (typeof value === "number") return value * 100;
  const m = MONEY.exec(value)!;
  const cents = Number(m[2]) * 100 + Number((m[3] ?? "").padEnd(2, "0"));
  return m[1] === "-" ? -cents : cents;
}

function centsToMoney(cents: number): string {
  const sign = cents < 0 ? "-" : "";
  const abs = Math.abs(cents);
  return `${sign}${Math.floor(abs / 100)}.${String(abs % 100).padStart(2, "0")}`;
}

/** A checked value as the database takes it. */
export function toDb(field: FieldDecl, value: unknown, dialect: Dialect): SqlValue {
  if (value === null || value === undefined) return null;
  switch (field.dataType) {
    case "Money":
      // SQLite has no exact decimal: cents in an integer (exact, ordered, summable).
      return dialect === "sqlite" ? moneyToCents(value as string | number) : typeof value === "number" ? String(value) : (value as string);
    case "JitDict":
      return JSON.stringify(value);
    default:
      return value as SqlValue;
  }
}

/** A stored value as a row gives it back: numbers for ids and times, strings for Money and Date. */
export function fromDb(field: FieldDecl, raw: unknown, dialect: Dialect): unknown {
  if (raw === null || raw === undefined) return null;
  switch (field.dataType) {
    case "AutoInt":
    case "Numeric":
    case "Datetime":
      return typeof raw === "number" ? raw : Number(raw);
    case "Money":
      if (dialect === "sqlite") return centsToMoney(Number(raw));
      return normaliseMoney(String(raw));
    case "JitDict":
      return typeof raw === "string" ? JSON.parse(raw) : raw;
    case "Date":
      return raw instanceof Date ? localDay(raw) : raw;
    default:
      return raw;
  }
}

/**
 * The converter of a field's stored values, chosen once per field and dialect (the row
 * shaping of a 1,000-row page runs it 1,000 times per field): null for a field whose values
 * come back from the driver as they are.
 */
export function readerOf(field: FieldDecl, dialect: Dialect): ((raw: unknown) => unknown) | null {
  switch (field.dataType) {
    case "Stext":
    case "Ltext":
      return null;
    case "Date":
      // pg turns a DATE into a Date at local midnight; its local parts are the stored day.
      return dialect === "postgres" ? (raw) => (raw instanceof Date ? localDay(raw) : raw) : null;
    case "AutoInt":
    case "Numeric":
    case "Datetime":
      // Both drivers give numbers here (pg's int8 through the pool's parser).
      return null;
    case "JitDict":
      return dialect === "postgres" ? null : (raw) => (raw === null || raw === undefined ? null : JSON.parse(raw as string));
    default:
      return (raw) => fromDb(field, raw, dialect);
  }
}

function localDay(date: Date): string {
  const pad = (n: number) => String(n).padStart(2, "0");
  return `${String(date.getFullYear()).padStart(4, "0")}-${pad(date.getMonth() + 1)}-${pad(date.getDate())}`;
}

/** PostgreSQL's numeric(15,2) text, as SQLite's path writes it ("12.50", "-0.10"). */
function normaliseMoney(text: string): string {
  const m = /^(-?)(\d+)(?:\.(\d+))?$/.exec(text);
  if (!m) return text;
  return `${m[1]}${m[2]}.${(m[3] ?? "").padEnd(2, "0").slice(0, 2)}`;
}
