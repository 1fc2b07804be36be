import type { AppStore } from "../database/stores.ts";
import type { Rate } from "./options.ts";
import type { RateStore, WindowCount } from "./rateStore.ts";

/**
 * Rate-limit counts in the app's database, shared by every process that serves it (`jit serve
 * --workers N`, or several servers on one PostgreSQL database): one UPSERT … RETURNING per
 * hit (AppStore.hitRateWindow), so four processes give a client the limit once, not four times.
 * The database is already the one thing the processes share and must reach for every login;
 * Redis would be a second service to run and watch for the same guarantee. Each limit keeps
 * its keys apart by a prefix. Ended windows go with purgeExpired.
 *
 * When the database cannot count (an outage), the hit fails and the request gets the store's
 * 503, as the login itself would.
 */
export class StoreRateStore implements RateStore {
  readonly #store: () => Promise<Pick<AppStore, "hitRateWindow">>;
  readonly #prefix: string;
  readonly #now: () => number;

  constructor(store: () => Promise<Pick<AppStore, "hitRateWindow">>, limit: string, now: () => number = Date.now) {
    this.#store = store;
    this.#prefix = `${limit}:`;
    this.#now = now;
  }

  async hit(key: string, rate: Rate): Promise<WindowCount> {
    const now = this.#now();
    const store = await this.#store();
    if (!store.hitRateWindow) throw new TypeError("the app's store keeps no rate windows (hitRateWindow)");
    const { count, resetAt } = await store.hitRateWindow(this.#prefix + key, rate.windowMs, now);
    return { count, ttlMs: resetAt - now };
  }
}
