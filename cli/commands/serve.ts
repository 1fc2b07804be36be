import type { Command } from "commander";
import { CliError } from "../../runtime/errors/index.ts";
import { parsePort, type CliKit } from "../kit.ts";

/**
 * `jit serve`: the HTTP API of one app. Prints one line with the URL on stdout; logs are
 * JSON lines on stderr. SIGTERM/SIGINT stop it gracefully (in-flight requests finish, the
 * database is closed, exit 0).
 */
export function register(program: Command, kit: CliKit): void {
  program
    .command("serve")
    .description("serve the apps' element functions over HTTP: POST /api/<appId>/<element path>/<function> (every app of the root, or those --app a,b names)")
    .option("--port <port>", "port to listen on (0 = any free port; default $PORT or 8080)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option(
      "--db <location>",
      "SQLite file or postgres://user:password@host:port/database, {appId} standing for the app; <appId>=<location> for one app (repeatable; default $JIT_DB, else $DATABASE_URL, else <root>/.jit/<appId>.sqlite)",
      collect,
      [],
    )
    .option("--purge-interval <ms>", "ms between purges of expired codes and sessions; 0 = at start-up only (default $JIT_PURGE_INTERVAL_MS, else 600000)")
    .option("--docs", "serve the interactive API page at /docs (GET /openapi.json is always served)")
    .option("--console", "serve the admin console at /console (admin token: $JIT_ADMIN_TOKEN, else generated and printed once)")
    .option("--console-remote", "let the console answer non-loopback clients too (the admin token still applies)")
    .option("--workers <n|auto>", "processes serving the port (auto = one per core; default $JIT_WORKERS, else 1)")
    .action((opts: ServeFlags) => kit.run(() => serve(kit, opts)));
}

export interface ServeFlags {
  port?: string;
  host: string;
  db: string[];
  purgeInterval?: string;
  docs?: boolean;
  console?: boolean;
  consoleRemote?: boolean;
  workers?: string;
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/** "app demo" or "apps a, b": how the listening line names what is served. */
export function appsLabel(appIds: readonly string[]): string {
  return appIds.length === 1 ? `app ${appIds[0]}` : `apps ${appIds.join(", ")}`;
}

async function serve(kit: CliKit, opts: ServeFlags): Promise<number> {
  const { isServeWorker, parseWorkers, reportListening, runPrimary } = await import("./serveWorkers.ts");
  const workers = isServeWorker() ? 1 : parseWorkers(opts.workers ?? process.env.JIT_WORKERS ?? "1", opts.workers !== undefined ? "--workers" : "JIT_WORKERS");
  const port = parsePort(opts.port ?? process.env.PORT ?? 8080, opts.port !== undefined ? "--port" : "PORT");
  const purgeIntervalMs = opts.purgeInterval === undefined ? undefined : parsePurgeInterval(opts.purgeInterval);
  // Which apps, and where each keeps its data: checked before anything is opened or forked,
  // so apps that would share one database stop here, once.
  const { appDatabases, refuseSharedDatabases } = await import("../../runtime/app/appDatabases.ts");
  const databases = appDatabases({ specs: opts.db, appIds: await kit.appIds(), root: kit.options().root });
  refuseSharedDatabases(databases);
  if (workers > 1) {
    const { createLogger } = await import("../../runtime/logging/logger.ts");
    // One admin token for every worker: the primary resolves it (a bad JIT_ADMIN_TOKEN
    // stops here, once) and hands a generated one to the workers in their environment.
    const adminToken = opts.console ? (await import("../../runtime/http/console/adminToken.ts")).resolveAdminToken(process.env) : null;
    const generated = adminToken?.takeGenerated() ?? null;
    return runPrimary(workers, {
      log: createLogger(),
      env: generated ? { JIT_ADMIN_TOKEN: generated } : {},
      announce: (url) => extraLines(url, { docs: opts.docs === true, console: adminToken ? { generated } : null }),
    });
  }
  // Loaded here, not at the top: every other jit command would pay for Fastify's import.
  const { serveApp } = await import("../../runtime/http/listen.ts");
  const { sqliteWriterFromEnv } = await import("../../runtime/database/sqlite/open.ts");
  // Writes on a writer thread: the event loop is what bounds a server's logins per second.
  const sqliteWriter = sqliteWriterFromEnv(process.env, "worker");
  const apps: Array<Awaited<ReturnType<CliKit["loadApp"]>>> = [];
  for (const { appId, dbFile } of databases) apps.push(await kit.loadApp({ appId, ...(dbFile ? { dbFile } : {}), sqliteWriter }));
  for (const app of apps) for (const warning of app.warnings) process.stderr.write(`${warning}\n`);
  const { loadedDatabases } = await import("../../runtime/app/appDatabases.ts");
  const loaded = loadedDatabases(apps);
  refuseSharedDatabases(loaded);
  const rateStore = await sharedRateStore(loaded, (appId) => apps.find((a) => a.appId === appId)!);
  // serveApp opens the databases and loads the master keys before it listens.
  const adminToken = opts.console ? (await import("../../runtime/http/console/adminToken.ts")).resolveAdminToken(process.env) : null;
  const serving = await serveApp({
    apps,
    port,
    host: opts.host,
    docs: opts.docs === true,
    ...(adminToken ? { console: { adminToken, allowRemote: opts.consoleRemote === true } } : {}),
    ...(rateStore ? { rateStore } : {}),
    ...(purgeIntervalMs !== undefined ? { purgeIntervalMs } : {}),
  });
  const label = appsLabel(apps.map((app) => app.appId));
  // A worker reports to the primary, which prints these lines once for all.
  if (isServeWorker()) reportListening(serving.url, label);
  else {
    process.stdout.write(`jit serve: ${label} listening on ${serving.url} (POST ${serving.url}/api/${apps.length === 1 ? apps[0]!.appId : "<appId>"}/...)\n`);
    for (const line of extraLines(serving.url, { docs: opts.docs === true, console: adminToken ? { generated: adminToken.takeGenerated() } : null })) {
      process.stdout.write(`${line}\n`);
    }
  }
  // kit.run exits when the action settles: that is after a graceful stop.
  return serving.stopped;
}

/**
 * Rate-limit counts live in each app's database when another process may serve the same
 * clients (a worker, or any server on PostgreSQL, which exists to be shared); otherwise in
 * memory, which costs no write per request. Decided from the locations, not the opened
 * stores: serveApp checks its settings before anything is opened.
 */
export async function sharedRateStore(
  databases: ReadonlyArray<{ appId: string; location: string }>,
  /** The app serving now (after a reload in `jit dev`, its newest version). */
  appOf: (appId: string) => { getStore(): Promise<import("../../runtime/database/stores.ts").AppStore> },
): Promise<((limit: string, appId: string) => import("../../runtime/http/rateStore.ts").RateStore) | undefined> {
  const { isServeWorker } = await import("./serveWorkers.ts");
  const { isPostgresUrl } = await import("../../runtime/database/postgres/config.ts");
  const shared = isServeWorker() || databases.some((d) => isPostgresUrl(d.location));
  if (!shared) return undefined;
  const { StoreRateStore } = await import("../../runtime/http/storeRateStore.ts");
  return (limit, appId) => new StoreRateStore(() => appOf(appId).getStore(), limit);
}

/** The lines after "listening on": the API page and the console, when served. */
function extraLines(url: string, serving: { docs: boolean; console: { generated: string | null } | null }): string[] {
  return [
    ...(serving.docs ? [`jit serve: API page at ${url}/docs (OpenAPI document: ${url}/openapi.json)`] : []),
    ...(serving.console ? [consoleLine(url, serving.console.generated)] : []),
  ];
}

/**
 * Where the console is. A generated admin token is printed here once, on stdout only (it is
 * the operator's own credential, never logged), in the URL's fragment: the browser does not
 * send a fragment to the server, and the console moves it into its session storage.
 */
export function consoleLine(url: string, generated: string | null): string {
  return generated
    ? `jit serve: console at ${url}/console/#token=${generated} (admin token generated for this run; set JIT_ADMIN_TOKEN to choose one)`
    : `jit serve: console at ${url}/console/ (admin token: JIT_ADMIN_TOKEN)`;
}

function parsePurgeInterval(text: string): number {
  const ms = Number(text);
  if (text.trim() === "" || !Number.isInteger(ms) || ms < 0 || ms > 2 ** 31 - 1) {
    throw new CliError("USAGE_ERROR", { reason: "--purge-interval must be milliseconds: an integer from 0 (start-up only) to 2147483647" });
  }
  return ms;
}
