import { systemClock, type Clock } from "#runtime/clock.ts";
import { WeChatApiError } from "#runtime/errors/index.ts";
import { hashToken } from "#runtime/security/tokens.ts";
import { EXCHANGE_MAX_ENTRIES, EXCHANGE_TTL_MS, type ExchangeOnce } from "./wechat/index.ts";

/**
 * One wx.login code, one use, one set of credentials.
 *
 * WeChat exchanges a code once, and the exchange (wechat/exchangeOnce.ts) remembers its answer
 * for 5 minutes so a repeat is not refused with 40163. Without this ledger that memory would
 * turn one code into many: every repeat of getLoginCode would mint another login code, so
 * anyone who saw a code (a proxy log, say) could open sessions for its owner until it
 * expired, and could bind its owner's WeChat identity to an account of their own.
 *
 * So, per code (by its SHA-256; never held in clear):
 * - the first function that uses it owns it: any other use (getLoginCode vs bind, or a bind
 *   for another user) is refused with WECHAT_CODE_USED, the answer WeChat itself gives a
 *   second exchange;
 * - concurrent calls of the owning use share one run;
 * - a repeat gets the remembered result when `reuse` says it still holds, else runs again
 *   with the remembered result in hand (getLoginCode: a bind code until the user registers,
 *   then one login code, answered to every later repeat);
 * - a failed run is not remembered: the owning use may try again.
 * Entries last as long as the code could still be exchanged (5 minutes after the last run;
 * a run in progress is never dropped). When the cap forces an entry out early, the exchange
 * forgets that code too (`onEvict`), so a repeat goes to WeChat and gets 40163 instead of a
 * remembered session and fresh credentials. Remembered results hold the codes they handed
 * out, in memory only, like the session keys the exchange remembers.
 */
export interface CodeLedger {
  claim<T>(code: string, use: string, run: (previous: T | undefined) => Promise<T>, reuse?: (previous: T) => boolean): Promise<T>;
  size(): number;
}

interface Entry {
  use: string;
  expiresAt: number;
  running: Promise<unknown> | null;
  /** The last successful result, if any. */
  done: { value: unknown } | null;
}

export function createCodeLedger(
  options: { clock?: Clock; ttlMs?: number; maxEntries?: number; onEvict?: (codeHash: string) => void } = {},
): CodeLedger {
  const clock = options.clock ?? systemClock;
  const ttlMs = options.ttlMs ?? EXCHANGE_TTL_MS;
  const maxEntries = options.maxEntries ?? EXCHANGE_MAX_ENTRIES;
  // Re-inserted on every update, so insertion order is expiry order and expired entries sit at the front.
  const entries = new Map<string, Entry>();

  function sweep(now: number): void {
    for (const [key, entry] of entries) {
      if (entry.expiresAt > now) break;
      if (!entry.running) entries.delete(key);
    }
  }

  /** Makes room by dropping the oldest settled entries, and has the exchange forget them. */
  function evict(): void {
    for (const [key, entry] of entries) {
      if (entries.size < maxEntries) return;
      if (entry.running) continue;
      entries.delete(key);
      options.onEvict?.(key);
    }
  }

  function put(key: string, entry: Entry): void {
    entries.delete(key);
    if (entries.size >= maxEntries) evict();
    entries.set(key, entry);
  }

  return {
    claim<T>(code: string, use: string, run: (previous: T | undefined) => Promise<T>, reuse: (previous: T) => boolean = () => true): Promise<T> {
      const key = hashToken(code);
      const now = clock.now();
      sweep(now);
      const found = entries.get(key);
      const entry = found && found.expiresAt > now ? found : undefined;
      if (entry && entry.use !== use) return Promise.reject(new WeChatApiError("WECHAT_CODE_USED", { errcode: 40163 }));
      if (entry?.running) return entry.running as Promise<T>;
      const previous = entry?.done ? (entry.done.value as T) : undefined;
      if (entry?.done && reuse(previous as T)) return Promise.resolve(previous as T);

      const running = run(previous);
      const current: Entry = { use, expiresAt: now + ttlMs, running, done: entry?.done ?? null };
      put(key, current);
      running.then(
        (value) => {
          if (entries.get(key) === current) put(key, { use, expiresAt: clock.now() + ttlMs, running: null, done: { value } });
        },
        () => {
          if (entries.get(key) === current) put(key, { use, expiresAt: clock.now() + ttlMs, running: null, done: current.done });
        },
      );
      return running;
    },
    size: () => entries.size,
  };
}

// One ledger per shared exchange (one per mini program and AppSecret in the process), so two
// element instances of one mini program see the same uses, as they see the same exchanges.
const ledgers = new WeakMap<ExchangeOnce, CodeLedger>();

export function ledgerFor(exchange: ExchangeOnce, clock: Clock): CodeLedger {
  let ledger = ledgers.get(exchange);
  if (!ledger) {
    ledger = createCodeLedger({ clock, onEvict: (codeHash) => exchange.forget(codeHash) });
    ledgers.set(exchange, ledger);
  }
  return ledger;
}
