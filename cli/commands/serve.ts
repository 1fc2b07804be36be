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
    .description("serve the app's element functions over HTTP: POST /api/<appId>/<element path>/<function>")
    .option("--port <port>", "port to listen on (0 = any free port; default $PORT or 8080)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--db <file|url>", "SQLite file or postgres://user:password@host:port/database (default $JIT_DB, else $DATABASE_URL, else <root>/.jit/<appId>.sqlite)")
    .option("--purge-interval <ms>", "ms between purges of expired codes and sessions; 0 = at start-up only (default $JIT_PURGE_INTERVAL_MS, else 600000)")
    .option("--docs", "serve the interactive API page at /docs (GET /openapi.json is always served)")
    .option("--console", "serve the admin console at /console (admin token: $JIT_ADMIN_TOKEN, else generated and printed once)")
    .option("--console-remote", "let the console answer non-loopback clients too (the admin token still applies)")
    .option("--workers <n|auto>", "processes serving the port (auto = one per core; default $JIT_WORKERS, else 1)")
    .action((opts: { port?: string; host: string; db?: string; purgeInterval?: string; docs?: boolean; console?: boolean; consoleRemote?: boolean; workers?: string }) =>
      kit.run(async () => {
        const { isServeWorker, parseWorkers, reportListening, runPrimary } = await import("./serveWorkers.ts");
        const workers = isServeWorker() ? 1 : parseWorkers(opts.workers ?? process.env.JIT_WORKERS ?? "1", opts.workers !== undefined ? "--workers" : "JIT_WORKERS");
        if (workers > 1) {
          // The primary checks what it can without the app (a bad value stops here, once),
          // then forks; each worker runs this same command and serves.
          parsePort(opts.port ?? process.env.PORT ?? 8080, opts.port !== undefined ? "--port" : "PORT");
          if (opts.purgeInterval !== undefined) parsePurgeInterval(opts.purgeInterval);
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
        const port = parsePort(opts.port ?? process.env.PORT ?? 8080, opts.port !== undefined ? "--port" : "PORT");
        const purgeIntervalMs = opts.purgeInterval === undefined ? undefined : parsePurgeInterval(opts.purgeInterval);
        // Writes on a writer thread: the event loop is what bounds a server's logins per second.
        const sqliteWriter = sqliteWriterFromEnv(process.env, "worker");
        const app = await kit.loadApp({ ...(opts.db ? { dbFile: opts.db } : {}), sqliteWriter });
        // Rate-limit counts live in the database when another process may serve the same
        // clients (a worker, or any server on PostgreSQL, which exists to be shared);
        // otherwise in memory, which costs no write per request.
        // Decided from the location, not the opened store: serveApp checks its settings before
        // anything is opened. (A PostgreSQL URL, by the precedence openStore uses.)
        const { resolveDatabase } = await import("../../runtime/database/location.ts");
        const { isPostgresUrl } = await import("../../runtime/database/postgres/config.ts");
        const shared = isServeWorker() || isPostgresUrl(resolveDatabase({ dbFile: opts.db ?? null, root: kit.options().root, appId: app.appId }));
        const { StoreRateStore } = await import("../../runtime/http/storeRateStore.ts");
        const rateStore = shared ? (limit: string) => new StoreRateStore(() => app.getStore(), limit) : undefined;
        // serveApp opens the database and loads the master key before it listens.
        const adminToken = opts.console ? (await import("../../runtime/http/console/adminToken.ts")).resolveAdminToken(process.env) : null;
        const serving = await serveApp({
          app,
          port,
          host: opts.host,
          docs: opts.docs === true,
          ...(adminToken ? { console: { adminToken, allowRemote: opts.consoleRemote === true } } : {}),
          ...(rateStore ? { rateStore } : {}),
          ...(purgeIntervalMs !== undefined ? { purgeIntervalMs } : {}),
        });
        // A worker reports to the primary, which prints these lines once for all.
        if (isServeWorker()) reportListening(serving.url, app.appId);
        else {
          process.stdout.write(`jit serve: app ${app.appId} listening on ${serving.url} (POST ${serving.url}/api/${app.appId}/...)\n`);
          for (const line of extraLines(serving.url, { docs: opts.docs === true, console: adminToken ? { generated: adminToken.takeGenerated() } : null })) {
            process.stdout.write(`${line}\n`);
          }
        }
        // kit.run exits when the action settles: that is after a graceful stop.
        return serving.stopped;
      }),
    );
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
