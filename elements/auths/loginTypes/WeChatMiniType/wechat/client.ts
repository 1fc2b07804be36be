import { ConfigError } from "jit-runtime/element";
import { codeForErrcode } from "./errcodes.ts";
import { createWeChatHttp } from "./http.ts";
import { WeChatResponseError } from "./errors.ts";

export const DEFAULT_WECHAT_API_BASE = "https://api.weixin.qq.com";
export const DEFAULT_WECHAT_TIMEOUT_MS = 5000;

/** What code2Session gives back: only the fields we use, never the raw body. */
export interface WeChatSession {
  openId: string;
  unionId: string | null;
  /** Secret: stays on the server (vault), never logged or returned. */
  sessionKey: string;
}

export interface WeChatClient {
  code2Session(jsCode: string): Promise<WeChatSession>;
}

export interface WeChatClientOptions {
  appId: string;
  appSecret: string;
  apiBase?: string;
  env?: Record<string, string | undefined>;
  timeoutMs?: number;
}

/** authConfig.apiBase, else WECHAT_API_BASE, else production; no trailing slash. */
export function resolveApiBase(apiBase?: string, env: Record<string, string | undefined> = process.env): string {
  const source = apiBase ? "authConfig.apiBase" : env.WECHAT_API_BASE ? "WECHAT_API_BASE" : null;
  const base = apiBase || env.WECHAT_API_BASE || DEFAULT_WECHAT_API_BASE;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    throw new ConfigError("CONFIG_INVALID", { source: source ?? "apiBase", reason: "is not an absolute URL" });
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") {
    throw new ConfigError("CONFIG_INVALID", { source: source ?? "apiBase", reason: "must be an http(s) URL" });
  }
  if (url.search || url.hash || url.username || url.password) {
    throw new ConfigError("CONFIG_INVALID", { source: source ?? "apiBase", reason: "must not carry a query, fragment or credentials" });
  }
  return url.toString().replace(/\/+$/, "");
}

export function createWeChatClient(options: WeChatClientOptions): WeChatClient {
  if (!options.appId) throw new ConfigError("CONFIG_INVALID", { source: "authConfig.appId", reason: "is required" });
  if (!options.appSecret) throw new ConfigError("CONFIG_INVALID", { source: "authConfig.appSecret", reason: "is required" });
  const base = resolveApiBase(options.apiBase, options.env ?? process.env);
  const timeoutMs = options.timeoutMs ?? DEFAULT_WECHAT_TIMEOUT_MS;
  const { appId, appSecret } = options;
  const http = createWeChatHttp(base, timeoutMs);

  return {
    async code2Session(jsCode: string): Promise<WeChatSession> {
      const record = await http("sns/jscode2session", {
        searchParams: { appid: appId, secret: appSecret, js_code: jsCode, grant_type: "authorization_code" },
        errcodes: codeForErrcode,
      });
      // On success errcode is usually absent, sometimes 0; unknown extra fields are ignored.
      const { openid, session_key: sessionKey, unionid } = record;
      if (typeof openid !== "string" || !openid || typeof sessionKey !== "string" || !sessionKey) {
        throw new WeChatResponseError("WECHAT_UNAVAILABLE", { reason: "answer lacks openid or session_key" });
      }
      return { openId: openid, unionId: typeof unionid === "string" && unionid ? unionid : null, sessionKey };
    },
  };
}
