import cluster, { type Worker } from "node:cluster";
import os from "node:os";
import { CliError } from "../../runtime/errors/index.ts";
import type { Logger } from "../../runtime/logging/logger.ts";

/**
 * `jit serve --workers N`: N processes serving one port through node:cluster. The primary
 * serves nothing and opens no database: each worker loads the app and opens its own
 * connections after the fork (a pg pool, or a SQLite connection and writer thread on the
 * shared file), so nothing is shared but the database and the listening socket.
 *
 * - SIGTERM/SIGINT are forwarded to every worker; the primary exits once all have drained
 *   (exit 0, or 1 if one did not stop cleanly).
 * - A worker that dies while serving is logged and replaced.
 * - A worker that dies before it listens is a start-up failure (bad configuration, database
 *   not reachable: the worker printed why on stderr). Before any worker has listened, the
 *   first one stops everything with exit 1; later, three in a row do, so a crash loop
 *   never spins forever.
 */

/** Start-up failures in a row (no worker reaching "listening" in between) that stop the primary. */
const MAX_START_FAILURES = 3;

/** `label`: what is served, as the listening line names it ("app demo", "apps a, b"). */
export type WorkerMessage = { type: "jit-listening"; url: string; label: string; appId?: string };

export function parseWorkers(text: string, source: string): number {
  const value = text.trim().toLowerCase();
  if (value === "auto") return Math.max(1, os.availableParallelism());
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 256) {
    throw new CliError("USAGE_ERROR", { reason: `${source} must be a number of processes from 1 to 256, or "auto" (one per core)` });
  }
  return n;
}

/** True in a process forked by runPrimary: it serves and reports its URL instead of printing it. */
export const isServeWorker = (): boolean => cluster.isWorker;

export function reportListening(url: string, label: string): void {
  const single = /^app (\S+)$/.exec(label)?.[1];
  process.send?.({ type: "jit-listening", url, label, ...(single ? { appId: single } : {}) } satisfies WorkerMessage);
}

export interface PrimaryOptions {
  log: Logger;
  /** Added to every worker's environment (e.g. the admin token the primary generated, so all share it). */
  env?: Record<string, string>;
  /** Lines printed once after "listening on", when every worker listens. */
  announce?: (url: string) => string[];
}

/** Runs the primary: forks `count` workers and keeps them running until a signal. Resolves with the exit code. */
export function runPrimary(count: number, options: PrimaryOptions): Promise<number> {
  const { log } = options;
  const listening = new Set<number>();
  let everListened = false;
  let startFailures = 0;
  let stopping = false;
  let failed = false;
  let announced = false;

  return new Promise<number>((resolve) => {
    const finishIfDone = () => {
      if (stopping && Object.keys(cluster.workers ?? {}).length === 0) resolve(failed ? 1 : 0);
    };

    const stopAll = (reason: string) => {
      if (stopping) return;
      stopping = true;
      log.info({ reason, workers: Object.keys(cluster.workers ?? {}).length }, "stopping workers");
      for (const w of Object.values(cluster.workers ?? {})) w?.process.kill("SIGTERM");
      finishIfDone();
    };

    const fork = (): Worker => {
      const worker = cluster.fork(options.env ?? {});
      worker.on("message", (msg: WorkerMessage) => {
        if (msg?.type !== "jit-listening") return;
        listening.add(worker.id);
        everListened = true;
        startFailures = 0;
        if (!announced && listening.size === count) {
          announced = true;
          process.stdout.write(`jit serve: ${msg.label} listening on ${msg.url} with ${count} workers (POST ${msg.url}/api/${msg.appId ?? "<appId>"}/...)\n`);
          for (const line of options.announce?.(msg.url) ?? []) process.stdout.write(`${line}\n`);
        }
      });
      return worker;
    };

    cluster.on("exit", (worker, code, signal) => {
      const served = listening.delete(worker.id);
      if (stopping) {
        // Killed by the forwarded signal before it had installed its handlers (still
        // starting): stopped as asked. An exit code other than 0 is a worker that failed to drain.
        if (code !== null && code !== 0) failed = true;
        finishIfDone();
        return;
      }
      if (!served) {
        startFailures += 1;
        log.error({ pid: worker.process.pid, code, signal, startFailures }, "worker failed to start");
        if (!everListened || startFailures >= MAX_START_FAILURES) {
          failed = true;
          stopAll("workers fail at start-up");
          return;
        }
      } else {
        log.error({ pid: worker.process.pid, code, signal }, "worker died; starting a new one");
      }
      fork();
    });

    for (const signal of ["SIGTERM", "SIGINT"] as const) process.on(signal, () => stopAll(signal));
    for (let i = 0; i < count; i++) fork();
  });
}
