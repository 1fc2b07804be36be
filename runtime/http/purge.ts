import { systemClock, type Clock } from "../clock.ts";
import { resolveTimerMs } from "./timerSetting.ts";
import type { AppStore } from "../database/stores.ts";

/**
 * Housekeeping while serving: expired and used single-use codes and expired sessions are
 * deleted at start-up and then every `intervalMs`, so tables of dead rows do not grow without
 * bound. Expiry is judged by the app's clock, like every other expiry check.
 */

export const DEFAULT_PURGE_INTERVAL_MS = 10 * 60_000;

export interface PurgeLog {
  info(obj: object, msg: string): void;
  debug(obj: object, msg: string): void;
  error(obj: object, msg: string): void;
}

export interface Purger {
  /** One purge now; resolves with the counts (also logged). */
  runOnce(): Promise<PurgeCounts>;
  /** Stops the interval and waits for a purge in progress, so the store can be closed after. */
  stop(): Promise<void>;
}

export type PurgeCounts = Record<string, number>;

/** `purgeIntervalMs` option, else JIT_PURGE_INTERVAL_MS, else 10 minutes; 0 turns the interval off. */
export function resolvePurgeInterval(option: number | undefined, env: Readonly<Record<string, string | undefined>> = process.env): number {
  return resolveTimerMs({
    option,
    optionName: "purgeIntervalMs",
    env,
    envName: "JIT_PURGE_INTERVAL_MS",
    fallback: DEFAULT_PURGE_INTERVAL_MS,
    min: 0,
    reason: () => "expected milliseconds between purges (an integer, 0 = off, at most 2147483647)",
  });
}

/**
 * Purges once now (awaited: a start-up failure is a start-up error) and then on an unref'd
 * interval, which never keeps the process alive. A failing periodic purge is logged and
 * retried at the next tick.
 */
export async function startPurging(options: {
  getStore: () => Promise<AppStore>;
  clock?: Clock;
  intervalMs: number;
  log: PurgeLog;
}): Promise<Purger> {
  const clock = options.clock ?? systemClock;
  let running: Promise<PurgeCounts> | null = null;

  const runOnce = (): Promise<PurgeCounts> => {
    running ??= (async () => {
      try {
        const store = await options.getStore();
        const counts = (await store.purgeExpired?.(clock.now())) ?? {};
        const total = Object.values(counts).reduce((sum, n) => sum + n, 0);
        options.log[total > 0 ? "info" : "debug"]({ purged: counts }, "purged expired codes and sessions");
        return counts;
      } finally {
        running = null;
      }
    })();
    return running;
  };

  await runOnce();
  let timer: NodeJS.Timeout | null = null;
  if (options.intervalMs > 0) {
    timer = setInterval(() => {
      runOnce().catch((err: unknown) => options.log.error({ err }, "purging expired rows failed"));
    }, options.intervalMs);
    timer.unref();
  }
  return {
    runOnce,
    async stop() {
      if (timer) clearInterval(timer);
      timer = null;
      await running?.catch(() => undefined);
    },
  };
}
