import type { FastifyInstance } from "fastify";
import type { AppContext } from "../element/types.ts";
import type { Logger } from "../logging/logger.ts";
import { appLogger } from "./logging.ts";
import { resolvePurgeInterval, startPurging, type PurgeCounts, type Purger } from "./purge.ts";
import { createHost, type AppHost, type CreateServerOptions } from "./server.ts";
import type { ServedApp } from "./types.ts";
import { installGracefulShutdown, resolveShutdownTimeout } from "./shutdown.ts";

export type ServableApp = ServedApp & Pick<AppContext, "getMasterKey">;

/** Shared by `jit serve`, `jit dev` and the demo: build the server, listen, stop gracefully on signals. */
export interface ServeOptions extends Omit<CreateServerOptions, "app" | "apps"> {
  /** The app to serve; or `apps` for several, each under its own `/api/<appId>/`. */
  app?: ServableApp;
  apps?: ServableApp[];
  port: number;
  host: string;
  /** Also run on shutdown, after the app is closed. */
  after?: () => Promise<void>;
  /** Install SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
  /**
   * Milliseconds between purges of expired codes and sessions (one purge always runs at
   * start-up); 0 = no periodic purge. Default JIT_PURGE_INTERVAL_MS, else 10 minutes.
   */
  purgeIntervalMs?: number;
  /** Longest graceful stop before exit 1. Default JIT_SHUTDOWN_TIMEOUT_MS, else 10 s. */
  shutdownTimeoutMs?: number;
}

export interface Serving {
  server: FastifyInstance;
  url: string;
  port: number;
  /** Stops gracefully (same path as SIGTERM). */
  stop(): Promise<void>;
  /** Housekeeping of expired rows (see purge.ts); stopped by stop(). */
  purger: Purger;
  /** Settles with the exit code once the server and the app are closed. */
  stopped: Promise<number>;
  /** The served apps; `host.setStatus` shows an app's problems in the console. */
  host: AppHost;
  /**
   * Serves a new version of a served app from the next request on (see AppHost.replace).
   * The old version is not closed: the new one took over its database (App.adopt).
   */
  replace(app: ServableApp): Promise<void>;
  /** Serves one more app (see AppHost.add), with its own purge; its master key is loaded first. */
  add(app: ServableApp): Promise<void>;
}

export async function serveApp(options: ServeOptions): Promise<Serving> {
  // Checked before anything is opened: a bad value would otherwise surface only at the
  // first SIGTERM, as an immediate "shutdown timed out" exit 1.
  const shutdownTimeoutMs = resolveShutdownTimeout(options.shutdownTimeoutMs, options.env ?? process.env);
  const initial = options.apps ?? (options.app ? [options.app] : []);
  const host = await createHost({ ...options, apps: initial });
  const { server } = host;
  // The app's own logger writes synchronously (right for CLI commands); while serving, its
  // lines go through the server's asynchronous one instead, with the request id.
  const handLogger = (app: ServableApp) => {
    if (options.logger !== false) app.useLogger?.(appLogger(server.log as unknown as Logger));
  };
  initial.forEach(handLogger);
  const current = (appId: string) => host.apps().find((a) => a.appId === appId) as ServableApp;
  const purgers: Purger[] = [];
  const intervalMs = resolvePurgeInterval(options.purgeIntervalMs, options.env ?? process.env);
  // Reads the current version's store (after a reload, the new one, which holds the same
  // store) by app id: the purger must not keep a replaced version alive.
  const startPurgingFor = (app: ServableApp) =>
    startPurging({
      getStore: () => current(app.appId).getStore(),
      ...(app.clock ? { clock: app.clock } : {}),
      intervalMs,
      log: server.log,
    });
  try {
    // Start-up checks for every caller: the first purge opens the database, then the master
    // key is loaded, so a bad --db, JIT_MASTER_KEY or master.key file fails here (exit 1),
    // not on the first request or login. Each app has its own database and purge.
    for (const app of initial) {
      purgers.push(await startPurgingFor(app));
      await app.getMasterKey();
      // The families' start-up work (a model's pending migration): refused here, not on a request.
      await (app as { prepare?: () => Promise<void> }).prepare?.();
    }
    await server.listen({ port: options.port, host: options.host });
  } catch (err) {
    await Promise.all(purgers.map((p) => p.stop()));
    await server.close();
    throw err;
  }
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const hostName = options.host.includes(":") ? `[${options.host}]` : options.host;
  let settle!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (settle = resolve));
  const housekeeping: Purger = {
    runOnce: async () => {
      const counts = await Promise.all(purgers.map((p) => p.runOnce()));
      const sum: Record<string, number> = {};
      for (const c of counts) for (const [key, n] of Object.entries(c)) sum[key] = (sum[key] ?? 0) + (n as number);
      return sum as unknown as PurgeCounts;
    },
    stop: async () => void (await Promise.all(purgers.map((p) => p.stop()))),
  };
  const stop = installGracefulShutdown({
    server,
    // The purge intervals stop (and a purge in progress ends) before the stores close.
    app: {
      close: async () => {
        await housekeeping.stop();
        await Promise.all(host.apps().map((app) => app.close()));
      },
    },
    ...(options.after ? { after: options.after } : {}),
    timeoutMs: shutdownTimeoutMs,
    ...(options.handleSignals === false ? { signals: [] } : {}),
    onStopped: settle,
  });
  return {
    server,
    url: `http://${hostName}:${port}`,
    port,
    purger: housekeeping,
    stop: async () => void (await stop()),
    stopped,
    host,
    async replace(app) {
      handLogger(app);
      await host.replace(app);
    },
    async add(app) {
      // As at start: a bad database or master key is refused before any request reaches it.
      await (await app.getStore()).ping();
      await app.getMasterKey();
      handLogger(app);
      await host.add(app);
      purgers.push(await startPurgingFor(app));
    },
  };
}
