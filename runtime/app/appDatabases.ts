import { CliError, ConfigError } from "../errors/index.ts";
import { hasScheme, resolveDatabase } from "../database/location.ts";
import { databaseLabel } from "../database/open.ts";

/**
 * Where each app of a server keeps its data (docs/development.md, "Several apps, one server").
 *
 * An app's database is found the same way whether it is served alone or with others, so
 * serving it beside another app never moves its data: `--db <appId>=<location>` for that app,
 * else `--db <location>`, `JIT_DB`, `DATABASE_URL`, else `<root>/.jit/<appId>.sqlite` (one
 * file per app). `{appId}` in a location stands for the app (storage/location.ts), which is
 * how one PostgreSQL URL gives each app its own schema.
 *
 * The stores keep no app column: two apps in one SQLite file or one PostgreSQL schema would
 * mix their users. So a server whose apps would share one is refused before anything is
 * opened, with the way out; nothing is moved for the user.
 */

export interface AppDatabase {
  appId: string;
  /** The `--db` value this app uses, if any (before `{appId}` and the environment apply). */
  dbFile: string | undefined;
  /** resolveDatabase's answer: the file, or the URL. */
  location: string;
}

const PER_APP = /^([A-Za-z0-9_.-]{1,100})=(.+)$/s;

/** The `--db` value of one app among `--db <location>` (for all) and `--db <appId>=<location>` (for one). */
export function dbOptionFor(specs: readonly string[], appId: string): string | undefined {
  let common: string | undefined;
  let own: string | undefined;
  for (const spec of specs) {
    const match = PER_APP.exec(spec);
    if (match) {
      if (match[1] === appId) own = match[2];
    } else {
      if (common !== undefined) throw new CliError("USAGE_ERROR", { reason: "--db is given twice for every app: give one --db <location>, and --db <appId>=<location> for the apps that differ" });
      common = spec;
    }
  }
  return own ?? common;
}

/** Each served app's database; USAGE_ERROR for a `--db <appId>=…` naming no served app. */
export function appDatabases(input: { specs: readonly string[]; appIds: readonly string[]; root: string; env?: Readonly<Record<string, string | undefined>> }): AppDatabase[] {
  for (const spec of input.specs) {
    const named = PER_APP.exec(spec)?.[1];
    if (named !== undefined && !input.appIds.includes(named)) {
      throw new CliError("USAGE_ERROR", { reason: `--db ${named}=… names an app that is not served here (served: ${input.appIds.join(", ")})` });
    }
  }
  return input.appIds.map((appId) => {
    const dbFile = dbOptionFor(input.specs, appId);
    return { appId, dbFile, location: resolveDatabase({ dbFile: dbFile ?? null, root: input.root, appId, ...(input.env ? { env: input.env } : {}) }) };
  });
}

/**
 * Refuses apps that would keep their rows in one database: one SQLite file, or one
 * PostgreSQL database and schema (its label names both). In-memory databases are each their own.
 */
export function refuseSharedDatabases(databases: readonly AppDatabase[]): void {
  const byPlace = new Map<string, string[]>();
  for (const { appId, location } of databases) {
    if (location === ":memory:") continue;
    const place = databaseLabel(location);
    byPlace.set(place, [...(byPlace.get(place) ?? []), appId]);
  }
  for (const [place, appIds] of byPlace) {
    if (appIds.length < 2) continue;
    const server = hasScheme(databases.find((d) => d.appId === appIds[0])!.location);
    const [first, second] = appIds as [string, string];
    const reason = server
      ? `apps ${appIds.join(", ")} would keep their rows in one database and schema (${place}), where nothing tells them apart. ` +
        `Give each app its own schema: one URL with {appId} in it, e.g. --db 'postgres://user@host/db?schema=app_{appId}', ` +
        `or one URL per app: --db ${first}=postgres://… --db ${second}=postgres://…?schema=${second.toLowerCase()}. ` +
        `An app already served alone on this URL has its tables in the URL's default schema: keep it there with --db <thatApp>=<the URL as it was> and give the others a schema`
      : `apps ${appIds.join(", ")} would keep their rows in one SQLite file (${place}), where nothing tells them apart. ` +
        `Leave --db, JIT_DB and DATABASE_URL unset (each app gets <root>/.jit/<appId>.sqlite), put {appId} in the path, ` +
        `or give each app its own: --db ${first}=${place} --db ${second}=<another file>`;
    throw new ConfigError("CONFIG_INVALID", { source: "database", reason });
  }
}

/**
 * Where loaded apps keep their data, as they resolved it (a database element of the app may
 * name it, which only a loaded app knows): checked again by refuseSharedDatabases once the
 * apps are loaded, before anything is opened.
 */
export function loadedDatabases(apps: ReadonlyArray<{ appId: string; dbFile: string | null; database: string | null }>): AppDatabase[] {
  return apps.map((app) => ({
    appId: app.appId,
    dbFile: undefined,
    // `database` names a server as host:port/database[?schema=…], which a URL of it labels alike.
    location: app.dbFile ?? (app.database !== null ? `postgres://${app.database}` : ":memory:"),
  }));
}
