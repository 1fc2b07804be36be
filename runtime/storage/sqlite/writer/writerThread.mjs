// Entry of the SQLite writer thread: a worker thread does not inherit the TypeScript loader
// of the thread that started it, so it registers tsx itself before loading the real module,
// and the "jit-source" condition, so that `jit-runtime/element` (imported by the errors of
// the families its writes raise) resolves to the sources as in the thread that started it.
import { register as registerTsx } from "tsx/esm/api";
import { register } from "node:module";

registerTsx();
const ADD_CONDITION = `export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, "jit-source"] });
}`;
register(`data:text/javascript,${encodeURIComponent(ADD_CONDITION)}`);
await import("./writerThread.ts");
