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
export { createWeChatHttp, type WeChatHttp, type WeChatCall } from "./http.ts";
export { createWeChatServerApi, type WeChatServerApi, type PhoneInfo } from "./api.ts";
export { createAccessTokens, sharedAccessTokens, isTokenRejection, type AccessTokens, type AccessTokenOptions, FORCE_REFRESH_PER_DAY, FORCE_REFRESH_INTERVAL_MS } from "./accessToken.ts";
export { TOKEN_ERRCODES, businessErrcodes } from "./errcodes.ts";
