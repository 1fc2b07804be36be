import path from "node:path";

/**
 * Where an app's database lives: `--db`, else `JIT_DB`, else `<root>/.jit/<appId>.sqlite`.
 * `--db` and `JIT_DB` are taken relative to the process cwd (that is where the user typed
 * them); the default sits under the app root so a CLI run and a server started from
 * different folders still share one file.
 */
export function resolveDbFile(input: {
  dbFile?: string | null;
  env?: Record<string, string | undefined>;
  root: string;
  appId: string;
}): string {
  const env = input.env ?? process.env;
  const explicit = nonEmpty(input.dbFile) ?? nonEmpty(env.JIT_DB);
  if (explicit !== undefined) return explicit === ":memory:" ? explicit : path.resolve(explicit);
  // An appId is a name, not a path: separators would let it escape .jit/.
  const fileName = `${input.appId.replace(/[\\/:]/g, "_")}.sqlite`;
  return path.resolve(input.root, ".jit", fileName);
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === undefined || value === null || value.trim() === "" ? undefined : value;
}
