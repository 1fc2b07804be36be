import { type Clock, hashToken } from "jit-runtime/element";
import { createWeChatClient, resolveApiBase, type WeChatClient, type WeChatSession } from "./client.ts";

/** The shared exchange: code2Session with one request per code in flight. */
export type ExchangeOnce = WeChatClient;

/**
 * Concurrent code2Session calls with one code in this process share one request (a second
 * exchange of a wx.login code gives 40163). Nothing is kept once WeChat answered: what a code
 * earned is remembered by the code ledger in the store (codeLedger.ts), for every process.
 * Keys are the SHA-256 of the code: the map never holds a code in clear.
 */
export function createExchangeOnce(client: WeChatClient): ExchangeOnce {
  const inFlight = new Map<string, Promise<WeChatSession>>();
  return {
    code2Session(code: string): Promise<WeChatSession> {
      const key = hashToken(code);
      const pending = inFlight.get(key);
      if (pending) return pending;
      const promise = client.code2Session(code);
      inFlight.set(key, promise);
      const clear = () => {
        inFlight.delete(key);
      };
      promise.then(clear, clear);
      return promise;
    },
  };
}

const shared = new Map<string, ExchangeOnce>();

/**
 * One exchange per (apiBase, appId, AppSecret) in the process, so two element instances of
 * one mini program share the codes in flight. The first caller's timeout is used. The AppSecret is part of the key (hashed) so a misconfigured instance
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
    exchange = createExchangeOnce(client);
    shared.set(key, exchange);
  }
  return exchange;
}

/** Forget every shared exchange (tests; a process that reloads its configuration). */
export function resetSharedExchanges(): void {
  shared.clear();
}
