import { randomBytes } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type Clock, isJitError } from "jit-runtime/element";
import type { AccessTokenSeal } from "../vault/index.ts";
import type { WeChatServerApi } from "./api.ts";
import { TOKEN_ERRCODES } from "./errcodes.ts";
import { WeChatApiError, WeChatRequestError, type WeChatError } from "./errors.ts";
import type { Store } from "../../../storage/Store.ts";

/**
 * The access token of one AppID, shared by every process and server through the store:
 * - one fetch at a time anywhere: in this process, callers share one promise; across
 *   processes, the store's lease row (claimAccessTokenFetch) lets one caller fetch while the
 *   others poll the row; a fetcher that dies stops blocking them when its lease runs out;
 * - renewed ahead of WeChat's expiry by a margin (at most half the token's lifetime);
 * - a business call rejected for its token (40001, 40014, 42001) invalidates the stored
 *   token only if it is still the one that failed, gets a new one and runs once more;
 *   force_refresh only when stable_token hands back the very token that was rejected, and
 *   within WeChat's quota (20 a day, 30 s apart), counted in the store for all servers.
 * The token is never logged and never part of an error.
 */
export interface AccessTokens {
  /** A usable token (from memory, the store, or one fetch). */
  get(): Promise<string>;
  /**
   * Runs `call` with a token. A token rejection is answered by one refresh and one retry: the
   * token was refused before WeChat acted on anything, so the retry is safe. A second
   * rejection is WECHAT_TOKEN_REJECTED, not a loop.
   */
  withToken<T>(call: (token: string) => Promise<T>): Promise<T>;
}

export interface AccessTokenOptions {
  appId: string;
  api: Pick<WeChatServerApi, "stableToken">;
  store: Pick<Store, "getAccessToken" | "claimAccessTokenFetch" | "saveAccessToken" | "invalidateAccessToken" | "claimForceRefresh">;
  seal: AccessTokenSeal;
  clock: Clock;
  /** Renew this long before WeChat's expiry (default 5 minutes; at most half the lifetime). */
  marginMs?: number;
  /** How long a fetcher holds the lease before others may take over (default 15 s). */
  leaseMs?: number;
  /** How long a caller waits for other fetchers in all (default twice the lease). */
  waitMs?: number;
}

/** WeChat's force_refresh limits on stable_token. */
export const FORCE_REFRESH_PER_DAY = 20;
export const FORCE_REFRESH_INTERVAL_MS = 30_000;
const POLL_FIRST_MS = 20;
const POLL_MAX_MS = 250;

interface Held {
  token: string;
  sealed: string;
  useUntil: number;
}

interface Rejected {
  token: string;
  errcode: number;
}

/** WeChat counts its quotas per day in China Standard Time (UTC+8). */
function quotaDay(now: number): number {
  return Math.floor((now + 8 * 3_600_000) / 86_400_000);
}

export function isTokenRejection(err: unknown): err is WeChatError {
  return isJitError(err) && err.code === "WECHAT_TOKEN_REJECTED" && TOKEN_ERRCODES.has((err as WeChatError).errcode ?? 0);
}

export function createAccessTokens(options: AccessTokenOptions): AccessTokens {
  const { appId, api, store, seal, clock } = options;
  const marginMs = options.marginMs ?? 300_000;
  const leaseMs = options.leaseMs ?? 15_000;
  const waitMs = options.waitMs ?? 2 * leaseMs;
  const owner = `${process.pid}.${randomBytes(8).toString("hex")}`;
  let held: Held | undefined;
  // One obtain per reason in this process: "" for a plain need, else the rejected token.
  const inFlight = new Map<string, Promise<Held>>();

  function shared(rejected: Rejected | null): Promise<Held> {
    const key = rejected?.token ?? "";
    let promise = inFlight.get(key);
    if (!promise) {
      promise = obtain(rejected).finally(() => inFlight.delete(key));
      inFlight.set(key, promise);
    }
    return promise;
  }

  async function obtain(rejected: Rejected | null): Promise<Held> {
    const deadline = Date.now() + waitMs;
    for (let pause = POLL_FIRST_MS; ; pause = Math.min(pause * 2, POLL_MAX_MS)) {
      const now = clock.now();
      const row = await store.getAccessToken(appId);
      if (row?.sealed && row.expiresAt > now) {
        const token = seal.open(appId, row.sealed);
        if (token !== rejected?.token) return (held = { token, sealed: row.sealed, useUntil: row.expiresAt });
        // Another server stored the rejected token again: it is no use to anyone.
        await store.invalidateAccessToken(appId, row.sealed);
      }
      if (await store.claimAccessTokenFetch(appId, owner, now, now + leaseMs, now)) return fetchAndStore(rejected);
      if (Date.now() >= deadline) {
        throw new WeChatRequestError("WECHAT_UNAVAILABLE", { reason: `no access token after waiting ${waitMs} ms for another server's fetch` });
      }
      await sleep(pause);
    }
  }

  async function fetchAndStore(rejected: Rejected | null): Promise<Held> {
    try {
      let answer = await api.stableToken(false);
      if (rejected && answer.token === rejected.token) {
        // Normal mode hands back the token WeChat just refused: only force_refresh helps,
        // and WeChat allows 20 a day, 30 s apart, for all servers of the AppID together.
        const rule = { day: quotaDay(clock.now()), maxPerDay: FORCE_REFRESH_PER_DAY, minIntervalMs: FORCE_REFRESH_INTERVAL_MS };
        if (!(await store.claimForceRefresh(appId, clock.now(), rule))) {
          throw new WeChatApiError("WECHAT_TOKEN_REJECTED", {
            errcode: rejected.errcode,
            reason: "; stable_token hands back the same token and WeChat's force_refresh quota (20 a day, 30 s apart) allows none now",
          });
        }
        answer = await api.stableToken(true);
      }
      const now = clock.now();
      const lifetimeMs = answer.expiresInSeconds * 1000;
      const useUntil = now + lifetimeMs - Math.min(marginMs, Math.floor(lifetimeMs / 2));
      const sealed = seal.seal(appId, answer.token);
      await store.saveAccessToken(appId, owner, sealed, useUntil);
      return (held = { token: answer.token, sealed, useUntil });
    } catch (err) {
      // Free the lease at once, so the others need not wait for it to run out.
      await store.saveAccessToken(appId, owner, null, 0).catch(() => undefined);
      throw err;
    }
  }

  async function current(): Promise<Held> {
    if (held && held.useUntil > clock.now()) return held;
    return shared(null);
  }

  async function refresh(failed: Held, errcode: number): Promise<Held> {
    if (held === failed) held = undefined;
    // Only if the store still holds the failed token: a newer one from another server stays.
    await store.invalidateAccessToken(appId, failed.sealed);
    return shared({ token: failed.token, errcode });
  }

  return {
    async get() {
      return (await current()).token;
    },
    async withToken(call) {
      const first = await current();
      try {
        return await call(first.token);
      } catch (err) {
        if (!isTokenRejection(err)) throw err;
        const second = await refresh(first, err.errcode ?? 40001);
        try {
          return await call(second.token);
        } catch (again) {
          if (!isTokenRejection(again)) throw again;
          throw new WeChatApiError("WECHAT_TOKEN_REJECTED", {
            errcode: again.errcode,
            ...(again.rid ? { rid: again.rid } : {}),
            reason: "; refused again after one refresh (is another system force-refreshing this AppID's token?)",
          });
        }
      }
    },
  };
}

// One manager per store and mini program (AppID, AppSecret, API base) in the process, so every
// element instance of one mini program shares the in-flight fetch and the token in memory.
const managers = new WeakMap<object, Map<string, AccessTokens>>();

export function sharedAccessTokens(store: object, key: string, create: () => AccessTokens): AccessTokens {
  let byKey = managers.get(store);
  if (!byKey) managers.set(store, (byKey = new Map()));
  let tokens = byKey.get(key);
  if (!tokens) byKey.set(key, (tokens = create()));
  return tokens;
}
