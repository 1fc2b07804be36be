import type { FastifyInstance } from "fastify";
import { CliError } from "../errors/index.ts";
import type { Logger } from "../logging/logger.ts";
import { appLogger } from "./logging.ts";
import { createServer, type CreateServerOptions } from "./server.ts";
import { installGracefulShutdown } from "./shutdown.ts";

/** Shared by `jit serve` and the demo: build the server, listen, stop gracefully on signals. */
export interface ServeOptions extends CreateServerOptions {
  port: number;
  host: string;
  /** Also run on shutdown, after the app is closed. */
  after?: () => Promise<void>;
  /** Install SIGTERM/SIGINT handlers (default true). */
  handleSignals?: boolean;
}

export interface Serving {
  server: FastifyInstance;
  url: string;
  port: number;
  /** Stops gracefully (same path as SIGTERM). */
  stop(): Promise<void>;
  /** Settles with the exit code once the server and the app are closed. */
  stopped: Promise<number>;
}

export function parsePort(text: string | number, source: string): number {
  const port = typeof text === "number" ? text : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new CliError("USAGE_ERROR", { reason: `${source} must be a port number 0-65535` });
  return port;
}

export async function serveApp(options: ServeOptions): Promise<Serving> {
  const server = await createServer(options);
  // The app's own logger writes synchronously (right for CLI commands); while serving, its
  // lines go through the server's asynchronous one instead, with the request id.
  if (options.logger !== false) options.app.useLogger?.(appLogger(server.log as unknown as Logger));
  await server.listen({ port: options.port, host: options.host });
  const address = server.server.address();
  const port = typeof address === "object" && address ? address.port : options.port;
  const host = options.host.includes(":") ? `[${options.host}]` : options.host;
  let settle!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (settle = resolve));
  const stop = installGracefulShutdown({
    server,
    app: options.app,
    ...(options.after ? { after: options.after } : {}),
    ...(options.handleSignals === false ? { signals: [] } : {}),
    onStopped: settle,
  });
  return { server, url: `http://${host}:${port}`, port, stop: async () => void (await stop()), stopped };
}
