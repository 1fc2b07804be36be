import { systemClock, type Clock } from "#runtime/clock.ts";
import { WeChatApiError } from "#runtime/errors/index.ts";
import { hashToken } from "#runtime/security/tokens.ts";
import { createWeChatClient, resolveApiBase, type WeChatClient, type WeChatSession } from "./client.ts";

export const EXCHANGE_TTL_MS = 300_000; // a wx.login code lives 5 minutes
export const EXCHANGE_MAX_ENTRIES = 100_000;

type Outcome = { ok: true; session: WeChatSession } | { ok: false; error: WeChatApiError };

/** The shared exchange: code2Session, plus forgetting an answer (codeLedger.ts uses it). */
export interface ExchangeOnce extends WeChatClient {
  /** Drops the remembered answer for a code, by its hash: a repeat then asks WeChat (40163). */
  forget(codeHash: string): void;
  size(): number;
}

interface Entry {
  expiresAt: number;
  outcome: Outcome;
}

/**
 * Exactly-once code2Session. A wx.login code can be exchanged once; a second exchange gives
 * 40163. So:
 * - concurrent calls with one code share one in-flight request;
 * - for `ttlMs` after WeChat answered, a repeat gets the same outcome (the session, or the
 *   WeChatApiError) without a new request;
 * - outcomes without an answer (WECHAT_UNAVAILABLE) are not kept, so the caller may retry.
 * Keys are the SHA-256 of the code: the cache never holds a code in clear. Cached sessions
 * do hold session keys in memory for up to ttlMs, the same secret the vault keeps anyway.
 */
export function createExchangeOnce(
  client: WeChatClient,
  options: { clock?: Clock; ttlMs?: number; maxEntries?: number } = {},
): ExchangeOnce {
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? EXCHANGE_TTL_MS;
  const maxEntries = options.maxEntries ?? EXCHANGE_MAX_ENTRIES;
  const inFlight = new Map<string, Promise<WeChatSession>>();
  // Insertion order = expiry order (constant ttl), so expired entries sit at the front.
  const done = new Map<string, Entry>();

  function sweep(now: number): void {
    for (const [key, entry] of done) {
      if (entry.expiresAt > now) break;
      done.delete(key);
    }
  }

  function remember(key: string, outcome: Outcome): void {
    const now = clock.now();
    sweep(now);
    while (done.size >= maxEntries) {
      const oldest = done.keys().next().value as string;
      done.delete(oldest);
    }
    done.set(key, { expiresAt: now + ttlMs, outcome });
  }

  return {
    code2Session(code: string): Promise<WeChatSession> {
      const key = hashToken(code);
      const now = clock.now();
      sweep(now);
      const cached = done.get(key);
      if (cached && cached.expiresAt > now) {
        return cached.outcome.ok ? Promise.resolve(cached.outcome.session) : Promise.reject(cached.outcome.error);
      }
      const pending = inFlight.get(key);
      if (pending) return pending;
      const promise = client.code2Session(code).then(
        (session) => {
          remember(key, { ok: true, session });
          return session;
        },
        (error: unknown) => {
          // WeChat answered: the code is spent, the answer is final. Anything else may be retried.
          if (error instanceof WeChatApiError) remember(key, { ok: false, error });
          throw error;
        },
      );
      inFlight.set(key, promise);
      const clear = () => {
        inFlight.delete(key);
      };
      promise.then(clear, clear);
      return promise;
    },
    forget(codeHash: string): void {
      done.delete(codeHash);
    },
    size: () => done.size,
  };
}

const shared = new Map<string, ExchangeOnce>();

/**
 * One exchange per (apiBase, appId, AppSecret) in the process, so two element instances of
 * one mini program share the in-flight and answered codes. The first caller's clock and
 * timeout are used. The AppSecret is part of the key (hashed) so a misconfigured instance
 * never silently borrows another's secret.
 */
export function getSharedExchange(options: {
  appId: string;
  appSecret: string;
  apiBase?: string;
  env?: Record<string, string | undefined>;
  clock?: Clock;
  timeoutMs?: number;
}): ExchangeOnce {
  const base = resolveApiBase(options.apiBase, options.env ?? process.env);
  const key = `${base}\n${options.appId}\n${hashToken(options.appSecret)}`;
  let exchange = shared.get(key);
  if (!exchange) {
    const client = createWeChatClient({ ...options, apiBase: base });
    exchange = createExchangeOnce(client, { clock: options.clock });
    shared.set(key, exchange);
  }
  return exchange;
}

/** Forget every shared exchange (tests; a process that reloads its configuration). */
export function resetSharedExchanges(): void {
  shared.clear();
}
