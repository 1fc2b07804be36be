import path from "node:path";
import { fileURLToPath } from "node:url";

/**
 * Where an app's default database lives: `--db`, else `JIT_DATABASE_URL`, else `JIT_DB`, else
 * `DATABASE_URL` (what the operator says wins), else what the app's default database element
 * declares, else `<root>/.jit/<appId>.sqlite`. The answer is either a URL naming a database server
 * (`postgres://…`, kept as given) or a SQLite file: a path, a `file:` URL or ":memory:".
 * A path is taken relative to the process cwd (that is where the user typed it); the
 * default sits under the app root so a CLI run and a server started from different folders
 * still share one file. openDatabase (open.ts) chooses the dialect from the answer's scheme.
 */
export function resolveDatabase(input: {
  dbFile?: string | null;
  env?: Readonly<Record<string, string | undefined>>;
  root: string;
  appId: string;
  /** What the app's default database element declares (a URL or an absolute file), used when nothing explicit is given. */
  declared?: string | null;
}): string {
  const env = input.env ?? process.env;
  const explicit = nonEmpty(input.dbFile) ?? nonEmpty(env.JIT_DATABASE_URL) ?? nonEmpty(env.JIT_DB) ?? nonEmpty(env.DATABASE_URL);
  if (explicit !== undefined) {
    const text = explicit.trim();
    if (hasScheme(text)) return text;
    if (/^file:/i.test(text)) return text.startsWith("file://") ? fileURLToPath(text) : path.resolve(text.slice("file:".length));
    return explicit === ":memory:" ? explicit : path.resolve(explicit);
  }
  if (input.declared) return input.declared;
  // An appId is a name, not a path: separators would let it escape .jit/.
  const fileName = `${input.appId.replace(/[\\/:]/g, "_")}.sqlite`;
  return path.resolve(input.root, ".jit", fileName);
}

/** The SQLite file of resolveDatabase's answer, or null when it names a database server. */
export function resolveDbFile(input: Parameters<typeof resolveDatabase>[0]): string | null {
  const location = resolveDatabase(input);
  return hasScheme(location) ? null : location;
}

/** `scheme://…` (not a `file:` URL, which resolveDatabase turns into a path). */
export function hasScheme(text: string): boolean {
  return /^[a-z][a-z0-9+.-]*:\/\//i.test(text) && !/^file:/i.test(text);
}

function nonEmpty(value: string | null | undefined): string | undefined {
  return value === undefined || value === null || value.trim() === "" ? undefined : value;
}
