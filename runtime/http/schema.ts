import type { FunctionArg, FunctionDecl } from "../element/types.ts";

/**
 * JSON Schema of a function's request body, generated from its functionList declaration.
 * Keys are the declared argument names; unknown keys and wrong types are rejected
 * (the server's ajv is configured not to strip or coerce, see server.ts).
 */

type JsonSchema = Record<string, unknown>;

/** A declared argument may say `"required": false` (e.g. an optional organisation id). */
export function isOptionalArg(arg: FunctionArg): boolean {
  return (arg as FunctionArg & { required?: unknown }).required === false;
}

// Strings are capped well below the body limit; an empty string is a client bug, never worth
// an upstream call.
const MAX_STRING = 4096;

/** JitAi data type → JSON Schema. Unknown types accept any JSON value (the element checks). */
export function argSchema(arg: FunctionArg): JsonSchema {
  switch (arg.dataType) {
    case "Stext":
    case "Ltext":
    case "Password":
      return { type: "string", minLength: 1, maxLength: MAX_STRING };
    case "Numeric":
      // Ids are whole numbers: a fractional userId is an input error, not a lookup miss.
      return /(^id$|Id$)/.test(arg.name) ? { type: "integer" } : { type: "number" };
    case "Integer":
      return { type: "integer" };
    case "Boolean":
      return { type: "boolean" };
    case "JitDict":
      return { type: "object" };
    case "JitList":
      return { type: "array" };
    default:
      return {};
  }
}

export function bodySchema(decl: FunctionDecl): JsonSchema {
  const properties: Record<string, JsonSchema> = {};
  const required: string[] = [];
  for (const arg of decl.args ?? []) {
    properties[arg.name] = argSchema(arg);
    if (!isOptionalArg(arg)) required.push(arg.name);
  }
  return { type: "object", properties, required, additionalProperties: false };
}

/** The positional arguments of a call, in declaration order, from a validated body. */
export function positionalArgs(decl: FunctionDecl, body: Record<string, unknown>): unknown[] {
  const args = (decl.args ?? []).map((arg) => body[arg.name]);
  while (args.length > 0 && args[args.length - 1] === undefined) args.pop();
  return args;
}
