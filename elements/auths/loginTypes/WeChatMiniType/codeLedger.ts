import { systemClock, type Clock } from "#runtime/clock.ts";
import { WeChatApiError } from "#runtime/errors/index.ts";
import { hashToken } from "#runtime/security/tokens.ts";
import { EXCHANGE_MAX_ENTRIES, EXCHANGE_TTL_MS, type ExchangeOnce } from "./wechat/index.ts";

/**
 * One wx.login code, one use, one set of credentials, for one caller.
 *
 * WeChat exchanges a code once, and the exchange (wechat/exchangeOnce.ts) remembers its answer
 * for 5 minutes so a repeat is not refused with 40163. Without this ledger that memory would
 * turn one code into many: anyone who saw a code (a proxy log, say) could replay it for the
 * credentials it had earned its owner (a bind code to register with, a login code to open a
 * session with), or bind its owner's WeChat identity to an account of their own.
 *
 * So, per code (by its SHA-256; never held in clear):
 * - the first function that uses it owns it: any other use (getLoginCode vs bind, or a bind
 *   for another user) is refused with WECHAT_CODE_USED, the answer WeChat itself gives a
 *   second exchange;
 * - `repeat: "refuse"` (getLoginCode, which hands out credentials): the first successful run
 *   answers its caller only. A call while it runs, or after it succeeded, is WECHAT_CODE_USED,
 *   so the credentials reach one caller and a replay gets nothing;
 * - `repeat: "rerun"` (bind, which hands out nothing): concurrent calls share one run, a later
 *   repeat runs again;
 * - a failed run is not remembered, so the owning use may try again; except that with
 *   `repeat: "refuse"` a failure that `retryable` does not accept spends the code too
 *   (getLoginCode: once WeChat named the identity, a retry could be anyone's replay).
 * Entries last as long as the code could still be exchanged (5 minutes after the last run;
 * a run in progress is never dropped). When the cap forces an entry out early, the exchange
 * forgets that code too (`onEvict`), so a repeat goes to WeChat and gets 40163 instead of a
 * remembered session. The ledger keeps no result: the codes it handed out are not in memory.
 */
export type Repeat = "refuse" | "rerun";

export interface ClaimOptions {
  repeat: Repeat;
  /** With "refuse": which failures leave the code open for another try (default: all). */
  retryable?: (error: unknown) => boolean;
}

export interface CodeLedger {
  claim<T>(code: string, use: string, run: () => Promise<T>, options: ClaimOptions): Promise<T>;
  size(): number;
}

interface Entry {
  use: string;
  expiresAt: number;
  running: Promise<unknown> | null;
  /** A run succeeded, or failed in a way that is not retryable: with repeat "refuse" the code is spent. */
  spent: boolean;
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

  const used = () => Promise.reject(new WeChatApiError("WECHAT_CODE_USED", { errcode: 40163 }));

  return {
    claim<T>(code: string, use: string, run: () => Promise<T>, { repeat, retryable = () => true }: ClaimOptions): Promise<T> {
      const key = hashToken(code);
      const now = clock.now();
      sweep(now);
      const found = entries.get(key);
      const entry = found && found.expiresAt > now ? found : undefined;
      if (entry && entry.use !== use) return used();
      if (entry && repeat === "refuse" && (entry.running || entry.spent)) return used();
      if (entry?.running) return entry.running as Promise<T>;

      const running = run();
      const spent = entry?.spent ?? false;
      const current: Entry = { use, expiresAt: now + ttlMs, running, spent };
      put(key, current);
      const settle = (spends: boolean) => {
        if (entries.get(key) === current) put(key, { use, expiresAt: clock.now() + ttlMs, running: null, spent: spent || spends });
      };
      running.then(
        () => settle(true),
        (error: unknown) => settle(!retryable(error)),
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
