import { type ErrorTable, defineErrorClass } from "jit-runtime/element";

/**
 * The models family's codes (family.ts hands them to the loader). Model and field names come
 * from declarations; {field} may come from a client (a filter's or a row's unknown key) and is
 * quoted. A value a client sent is never repeated.
 */
export const MODEL_ERROR_CODES = {
  MODEL_FIELD_UNKNOWN: { family: "model", status: 400, message: "{model} has no field {field}{where}", input: ["field"] },
  MODEL_VALUE_INVALID: { family: "model", status: 400, message: "{model}.{field}: {reason}" },
  MODEL_FILTER_INVALID: { family: "model", status: 400, message: "{model} filter on {field}: {reason}", input: ["field"] },
  MODEL_QUERY_INVALID: { family: "model", status: 400, message: "{model} {argument}: {reason}" },
  MODEL_UNIQUE_VIOLATION: { family: "model", status: 409, message: "{model}: another row already has this {fields}" },
  MODEL_ROW_NOT_FOUND: { family: "model", status: 404, message: "{model}: no row has this {pk}" },
  MIGRATION_UNSAFE: { family: "model", status: 500, message: "database {file}: {count} unsafe migration step(s) pending, nothing was changed: {steps}" },
  MIGRATION_REFUSED: { family: "model", status: 500, message: "database {file}: {reason}" },
} as const satisfies ErrorTable;

export const ModelError = defineErrorClass("ModelError", "model", MODEL_ERROR_CODES);
