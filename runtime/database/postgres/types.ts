import pg from "pg";

/**
 * pg hands `bigint` (int8) columns back as strings, since not every int8 fits a JavaScript
 * number. Here every one does: epoch milliseconds, identity ids and counts stay far below
 * 2^53. The pool parses int8 with this one function (the only place the conversion
 * happens), and refuses a value that would lose precision instead of rounding it.
 */
export function parseInt8(text: string): number {
  const value = Number(text);
  if (!Number.isSafeInteger(value)) throw new RangeError(`int8 value ${text.slice(0, 24)} does not fit a JavaScript number`);
  return value;
}

const INT8_OID = 20;

/** The pool's type parsers: pg's own, except int8 as a number. Per pool, not pg's global table. */
export const PG_TYPES = {
  getTypeParser: ((oid: number, format?: "text" | "binary") =>
    oid === INT8_OID && format !== "binary" ? parseInt8 : pg.types.getTypeParser(oid, format ?? "text")) as typeof pg.types.getTypeParser,
};
