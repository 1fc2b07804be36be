import type { WxLike } from "./client.ts";

/**
 * A stand-in for the mini program's `wx` outside WeChat (tests, the console's simulated
 * mini program): `request` goes over real HTTP with fetch, `login` asks `mintCode` for a
 * code (the fake WeChat server mints it), storage is a Map (or the given one).
 */
export interface WxShimOptions {
  mintCode: () => Promise<string>;
  fetch?: typeof fetch;
  storage?: Map<string, unknown>;
}

export function createWxShim(options: WxShimOptions): WxLike & { storage: Map<string, unknown> } {
  const doFetch = options.fetch ?? globalThis.fetch.bind(globalThis);
  const storage = options.storage ?? new Map<string, unknown>();
  return {
    storage,
    login({ success, fail }) {
      options.mintCode().then((code) => success({ code }), (err: unknown) => fail({ errMsg: `login:fail ${err instanceof Error ? err.message : String(err)}` }));
    },
    request({ url, method, data, header, timeout, success, fail }) {
      const signal = timeout ? AbortSignal.timeout(timeout) : null;
      doFetch(url, { method, headers: header, body: data, signal })
        .then(async (res) => {
          const text = await res.text();
          let parsed: unknown = text;
          try {
            parsed = JSON.parse(text);
          } catch {
            // wx.request hands back the raw text when it is not JSON
          }
          success({ statusCode: res.status, data: parsed, header: Object.fromEntries(res.headers) });
        })
        .catch((err: unknown) => fail({ errMsg: `request:fail ${err instanceof Error ? err.message : String(err)}` }));
    },
    getStorageSync: (key) => (storage.has(key) ? storage.get(key) : ""),
    setStorageSync: (key, value) => void storage.set(key, structuredClone(value)),
    removeStorageSync: (key) => void storage.delete(key),
  };
}
