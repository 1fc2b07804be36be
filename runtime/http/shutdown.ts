import type { FastifyInstance } from "fastify";
import { flushLogs } from "./logging.ts";

/**
 * Graceful stop on SIGTERM/SIGINT, in this order: stop accepting connections and let
 * in-flight requests finish (fastify.close), then close the app (its database), then exit 0.
 * A second signal or the timeout forces exit 1, so a stuck request cannot hang a deploy.
 */
export interface ShutdownOptions {
  server: FastifyInstance;
  app: { close(): Promise<void> };
  /** Run after the app is closed (e.g. stop a helper server). */
  after?: () => Promise<void>;
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  /** Called once the orderly stop is over (0, or 1 if closing failed). Default: process.exit. */
  onStopped?: (code: number) => void;
  /** Called on a second signal or the timeout. Default: process.exit. */
  force?: (code: number) => void;
}

export function installGracefulShutdown(options: ShutdownOptions): () => Promise<void> {
  const { server, app } = options;
  const done = options.onStopped ?? ((code: number) => process.exit(code));
  const force = options.force ?? ((code: number) => process.exit(code));
  const timeoutMs = options.timeoutMs ?? Number(process.env.JIT_SHUTDOWN_TIMEOUT_MS ?? 10_000);
  let stopping: Promise<void> | null = null;

  const stop = (reason: string): Promise<void> => {
    if (stopping) return stopping;
    server.log.info({ reason }, "shutting down: finishing in-flight requests");
    const timer = setTimeout(() => {
      server.log.error({ timeoutMs }, "shutdown timed out; exiting");
      flushLogs();
      force(1);
    }, timeoutMs);
    timer.unref();
    stopping = (async () => {
      let code = 0;
      try {
        await server.close();
        await app.close();
        await options.after?.();
        server.log.info({}, "stopped");
      } catch (err) {
        code = 1;
        server.log.error({ err }, "error during shutdown");
      } finally {
        clearTimeout(timer);
        flushLogs();
      }
      done(code);
    })();
    return stopping;
  };

  for (const signal of options.signals ?? (["SIGTERM", "SIGINT"] as NodeJS.Signals[])) {
    process.on(signal, () => {
      if (stopping) {
        server.log.warn({ signal }, "second signal: exiting now");
        flushLogs();
        force(1);
        return;
      }
      void stop(signal);
    });
  }
  return () => stop("requested");
}
