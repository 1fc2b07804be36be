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
 *
 * `{appId}` in an explicit location stands for the app's id, lower-cased with anything but
 * a-z, 0-9 and _ made `_` (a valid SQL name and file name), so one setting gives each app
 * of a server its own schema or file: `postgres://…/jit?schema=app_{appId}`.
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
    const given = explicit.replaceAll(APP_ID_SLOT, appIdAsName(input.appId));
    const text = given.trim();
    if (hasScheme(text)) return text;
    if (/^file:/i.test(text)) return text.startsWith("file://") ? fileURLToPath(text) : path.resolve(text.slice("file:".length));
    return given === ":memory:" ? given : path.resolve(given);
  }
  if (input.declared) return input.declared;
  // An appId is a name, not a path: separators would let it escape .jit/.
  const fileName = `${input.appId.replace(/[\\/:]/g, "_")}.sqlite`;
  return path.resolve(input.root, ".jit", fileName);
}

export const APP_ID_SLOT = "{appId}";

/** An app id as a SQL name and file name part: lower case, anything but a-z, 0-9 and _ as _. */
export function appIdAsName(appId: string): string {
  return appId.toLowerCase().replace(/[^a-z0-9_]/g, "_");
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
