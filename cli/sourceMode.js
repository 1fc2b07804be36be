// Runs this repository's TypeScript sources directly (tests, benchmarks, the demo, cli/bin.js):
// tsx for .ts files, and the "jit-source" condition so that `jit-runtime/...`
// resolves to the sources (package.json) instead of the compiled dist/.
// A resolve hook registered after tsx's runs before it, so tsx sees the condition too.
import { register as registerTsx } from "tsx/esm/api";
import { register } from "node:module";

const ADD_CONDITION = `export async function resolve(specifier, context, next) {
  return next(specifier, { ...context, conditions: [...context.conditions, "jit-source"] });
}`;

let done = false;
export function runFromSources() {
  if (done) return;
  done = true;
  registerTsx();
  register(`data:text/javascript,${encodeURIComponent(ADD_CONDITION)}`);
}
