/**
 * `jit-runtime/models`: what an app author needs from the models family: the base class of
 * models, and the types `jit types` builds each model's type from.
 */
export { Model, type ModelRow, type QueryResult } from "./models/Meta/index.ts";
export type { FieldDecl, DataType } from "./models/Meta/fields.ts";
export type { FieldCondition, ModelFilter, ModelQuery, TypedModel } from "./models/Meta/typed.ts";
