import type { FastifyInstance } from "fastify";
import type { AppContext } from "../element/types.ts";
import type { Logger } from "../logging/logger.ts";
import { appLogger } from "./logging.ts";
import { resolvePurgeInterval, startPurging, type Purger } from "./purge.ts";
import { createServer, type CreateServerOptions } from "./server.ts";
import { installGracefulShutdown, resolveShutdownTimeout } from "./shutdown.ts";

/** Shared by `jit serve` and the demo: build the server, listen, stop gracefully on signals. */
export interface ServeOptions extends CreateServerOptions {
  app: CreateServerOptions["app"] & Pick<AppContext, "getMasterKey">;
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
}

export async function serveApp(options: ServeOptions): Promise<Serving> {
  // Checked before anything is opened: a bad value would otherwise surface only at the
  // first SIGTERM, as an immediate "shutdown timed out" exit 1.
  const shutdownTimeoutMs = resolveShutdownTimeout(options.shutdownTimeoutMs, options.env ?? process.env);
  const server = await createServer(options);
  // The app's own logger writes synchronously (right for CLI commands); while serving, its
  // lines go through the server's asynchronous one instead, with the request id.
  if (options.logger !== false) options.app.useLogger?.(appLogger(server.log as unknown as Logger));
  const { app } = options;
  let purger: Purger | undefined;
  try {
    // Start-up checks for every caller: the first purge opens the database, then the master
    // key is loaded, so a bad --db, JIT_MASTER_KEY or master.key file fails here (exit 1),
    // not on the first request or login.
    purger = await startPurging({
      getStore: () => app.getStore(),
      ...(app.clock ? { clock: app.clock } : {}),
      intervalMs: resolvePurgeInterval(options.purgeIntervalMs, options.env ?? process.env),
      log: server.log,
    });
    await app.getMasterKey();
    await server.listen({ port: options.port, host: options.host });
  } catch (err) {
    await purger?.stop();
    await server.close();
    throw err;
  }
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  let settle!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (settle = resolve));
  const housekeeping = purger;
  const stop = installGracefulShutdown({
    server,
    // The purge interval stops (and a purge in progress ends) before the store closes.
    app: {
      close: async () => {
        await housekeeping.stop();
        await app.close();
      },
    },
    ...(options.after ? { after: options.after } : {}),
    timeoutMs: shutdownTimeoutMs,
    ...(options.handleSignals === false ? { signals: [] } : {}),
    onStopped: settle,
  });
  return { server, url: `http://${host}:${port}`, port, purger: housekeeping, stop: async () => void (await stop()), stopped };
}
