import Ajv, { type ErrorObject, type ValidateFunction } from "ajv";
import addFormats from "ajv-formats";

/**
 * The base schema of every e.json. Family keys (allowRegister, ...) are allowed here and
 * validated by the `e.schema.json` files found along the element's chain.
 */
export const ELEMENT_SCHEMA = {
  type: "object",
  required: ["title", "type"],
  properties: {
    title: { type: "string", minLength: 1 },
    type: { type: "string" },
    isType: { type: "boolean" },
    backendBundleEntry: { type: "string", minLength: 1 },
    frontBundleEntry: { type: "string", minLength: 1 },
    description: { type: "string" },
    accessModifier: { enum: ["public", "protected", "private"], default: "public" },
    defaults: { type: "object" },
    functionList: {
      type: "array",
      items: {
        type: "object",
        required: ["name"],
        properties: {
          name: { type: "string", pattern: "^[A-Za-z_$][A-Za-z0-9_$]*$" },
          title: { type: "string" },
          args: {
            type: "array",
            default: [],
            items: {
              type: "object",
              required: ["name", "dataType"],
              properties: {
                name: { type: "string", minLength: 1 },
                title: { type: "string" },
                dataType: { type: "string", minLength: 1 },
              },
            },
          },
          loginRequired: { enum: [0, 1], default: 1 },
          // "user" needs loginRequired 1: checked by rateLimitProblems, with a clearer message.
          rateLimit: { type: "array", items: { enum: ["ip", "user"] }, uniqueItems: true },
          http: { type: "boolean" },
        },
      },
    },
  },
} as const;

export const APP_SCHEMA = {
  type: "object",
  required: ["appId", "title"],
  properties: {
    appId: { type: "string", pattern: "^[A-Za-z0-9_-]+$" },
    title: { type: "string" },
    version: { type: "string" },
    description: { type: "string" },
    extends: { type: "array", items: { type: "string", minLength: 1 }, uniqueItems: true },
    defaultDatabase: { type: "string", pattern: "^[^.\\s]+(\\.[^.\\s]+)+$" },
  },
} as const;

/** Keys of an e.json that declare the element rather than configure an instance. */
export const DECLARATION_KEYS = new Set([
  "title",
  "type",
  "isType",
  "backendBundleEntry",
  "frontBundleEntry",
  "description",
  "accessModifier",
  "functionList",
  "defaults",
]);

function createAjv(useDefaults: boolean): Ajv {
  // Never coerceTypes (a "1" is not a 1) and never `verbose` (errors would carry the data).
  const ajv = new Ajv({ allErrors: true, strict: true, strictRequired: false, allowUnionTypes: true, useDefaults, coerceTypes: false });
  addFormats(ajv);
  // Annotation only: marks a field whose value `jit show` must mask.
  ajv.addKeyword({ keyword: "secret", schemaType: "boolean" });
  return ajv;
}

/**
 * Two validators: declarations get schema defaults filled in (accessModifier, loginRequired,
 * a Meta's `allowRegister: 0`), effective configs do not (their defaults come from the
 * `defaults` objects of the Type chain, so every value has a file it comes from).
 */
export const declarationAjv = createAjv(true);
export const configAjv = createAjv(false);

export const validateElement: ValidateFunction = declarationAjv.compile(ELEMENT_SCHEMA);
export const validateApp: ValidateFunction = declarationAjv.compile(APP_SCHEMA);

function escapePointer(key: string): string {
  return key.replace(/~/g, "~0").replace(/\//g, "~1");
}

/** The pointer of the offending value and a message that never contains the data. */
export function describeAjvError(err: ErrorObject): { pointer: string; reason: string; missing: boolean } {
  const p = err.params as Record<string, unknown>;
  if (err.keyword === "required" && typeof p.missingProperty === "string") {
    return { pointer: `${err.instancePath}/${escapePointer(p.missingProperty)}`, reason: "is required", missing: true };
  }
  if (err.keyword === "additionalProperties" && typeof p.additionalProperty === "string") {
    return { pointer: `${err.instancePath}/${escapePointer(p.additionalProperty)}`, reason: "is not an allowed property", missing: false };
  }
  if (err.keyword === "enum" && Array.isArray(p.allowedValues)) {
    // Allowed values come from the schema, not from the data: safe to show.
    return { pointer: err.instancePath, reason: `must be one of ${p.allowedValues.map((v) => JSON.stringify(v)).join(", ")}`, missing: false };
  }
  return { pointer: err.instancePath, reason: err.message ?? `fails ${err.keyword}`, missing: false };
}

/** A per-user limit needs a logged-in caller: "user" in rateLimit of a loginRequired 0 function. */
export function rateLimitProblems(decl: unknown): Array<{ pointer: string; reason: string }> {
  const list = (decl as { functionList?: unknown } | null)?.functionList;
  if (!Array.isArray(list)) return [];
  return list.flatMap((fn: { loginRequired?: unknown; rateLimit?: unknown }, i) =>
    fn?.loginRequired === 0 && Array.isArray(fn.rateLimit) && fn.rateLimit.includes("user")
      ? [{ pointer: `/functionList/${i}/rateLimit`, reason: 'names "user" but the function has loginRequired 0: a per-user limit needs a logged-in caller' }]
      : [],
  );
}
