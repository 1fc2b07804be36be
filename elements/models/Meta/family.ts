import { defineFamily } from "jit-runtime/element";
import { modelsConsole } from "./console/api.ts";
import { MODEL_ERROR_CODES } from "./errors.ts";
import { ensureModelsMigrated } from "./index.ts";
import { modelDeclarationProblems } from "./schema.ts";

/**
 * What the models family brings to the runtime (ARCHITECTURE.md, "What a family brings"): its
 * error codes, the checks of a model's e.json a JSON Schema cannot make, its start-up work
 * (every model's table brought up to date, or the start refused on an unsafe step), and its
 * console tab (each model's rows, read-only).
 */
export default defineFamily({
  errors: MODEL_ERROR_CODES,
  checkDeclaration: modelDeclarationProblems,
  prepare: ensureModelsMigrated,
  console: modelsConsole,
});
