import type { FastifyInstance } from "fastify";
import { resolveTimerMs } from "./timerSetting.ts";
import { flushLogs } from "./logging.ts";

/**
 * Graceful stop on SIGTERM/SIGINT, in this order: stop accepting connections and let
 * in-flight requests finish (fastify.close), then close the app (its database), then exit 0.
 * The timeout (JIT_SHUTDOWN_TIMEOUT_MS) forces exit 1, so a stuck request cannot hang a deploy.
 *
 * A repeated SIGTERM is ignored: supervisors send it more than once for one stop (GNU
 * `timeout` without --foreground signals the child and then its whole process group), and
 * cutting the requests we promised to finish would turn a clean stop into lost answers;
 * the timeout already bounds the stop. A second SIGINT is a person pressing Ctrl-C again
 * because they do not want to wait, so it still exits at once (exit 1).
 */

export const DEFAULT_SHUTDOWN_TIMEOUT_MS = 10_000;

/**
 * `timeoutMs` option, else JIT_SHUTDOWN_TIMEOUT_MS, else 10 s. Checked at start-up (serveApp),
 * so "10s" or "-1" refuses to start instead of turning the first SIGTERM into an exit 1.
 */
export function resolveShutdownTimeout(option: number | undefined, env: Readonly<Record<string, string | undefined>> = process.env): number {
  // At least 1: 0 would end every stop at once.
  return resolveTimerMs({
    option,
    optionName: "shutdownTimeoutMs",
    env,
    envName: "JIT_SHUTDOWN_TIMEOUT_MS",
    fallback: DEFAULT_SHUTDOWN_TIMEOUT_MS,
    min: 1,
    // A duration, not a secret: naming it tells the operator what to fix.
    reason: (text) => `expected milliseconds (an integer from 1 to 2147483647), got "${text.slice(0, 40)}"`,
  });
}

export interface ShutdownOptions {
  server: FastifyInstance;
  app: { close(): Promise<void> };
  /** Run after the app is closed (e.g. stop a helper server). */
  after?: () => Promise<void>;
  /** Longest orderly stop before force(1); default via resolveShutdownTimeout. */
  timeoutMs?: number;
  signals?: NodeJS.Signals[];
  /** Called once the orderly stop is over (0, or 1 if closing failed). Default: process.exit. */
  onStopped?: (code: number) => void;
  /** Called on a second SIGINT or the timeout. Default: process.exit. */
  force?: (code: number) => void;
}

export function installGracefulShutdown(options: ShutdownOptions): () => Promise<void> {
  const { server, app } = options;
  const done = options.onStopped ?? ((code: number) => process.exit(code));
  const force = options.force ?? ((code: number) => process.exit(code));
  const timeoutMs = resolveShutdownTimeout(options.timeoutMs);
  let stopping: Promise<void> | null = null;
  let repeatLogged = false;

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
      if (!stopping) {
        void stop(signal);
      } else if (signal === "SIGINT") {
        server.log.warn({ signal }, "SIGINT while shutting down: exiting now without finishing in-flight requests");
        flushLogs();
        force(1);
      } else if (!repeatLogged) {
        // Once: a supervisor may repeat its signal many times while we drain.
        repeatLogged = true;
        server.log.info({ signal, timeoutMs }, "already shutting down: repeated signal ignored (Ctrl-C twice forces exit)");
      }
    });
  }
  return () => stop("requested");
}
