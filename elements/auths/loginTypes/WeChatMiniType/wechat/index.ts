export {
  createWeChatClient,
  resolveApiBase,
  DEFAULT_WECHAT_API_BASE,
  DEFAULT_WECHAT_TIMEOUT_MS,
  type WeChatClient,
  type WeChatClientOptions,
  type WeChatSession,
} from "./client.ts";
export { createExchangeOnce, getSharedExchange, type ExchangeOnce, resetSharedExchanges } from "./exchangeOnce.ts";
export { codeForErrcode, normaliseErrcode, parseRid } from "./errcodes.ts";
