import type { Got } from "got";
import { ConfigError, WeChatApiError, WeChatRequestError, WeChatResponseError } from "#runtime/errors/index.ts";
import { codeForErrcode, normaliseErrcode, parseRid } from "./errcodes.ts";

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

/** Connect failures that provably never reached WeChat: the code is not spent, one retry is safe. */
const NEVER_REACHED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * A short, secret-free reason for a network failure. Never the got message or URL: they
 * carry secret= and js_code= from the query string.
 */
function networkReason(err: unknown, timeoutMs: number): string {
  const code = err && typeof err === "object" && "code" in err ? String((err as { code?: unknown }).code ?? "") : "";
  if (err instanceof Error && err.name === "TimeoutError") return `timeout after ${timeoutMs} ms`;
  switch (code) {
    case "ETIMEDOUT":
      return `timeout after ${timeoutMs} ms`;
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
      return "host name not found";
    case "EAI_AGAIN":
      return "host name lookup failed (temporary)";
    case "ECONNRESET":
    case "EPIPE":
      return "connection closed before a complete answer";
    default:
      return /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? `network error (${code})` : "network error";
  }
}

export function createWeChatClient(options: WeChatClientOptions): WeChatClient {
  if (!options.appId) throw new ConfigError("CONFIG_INVALID", { source: "authConfig.appId", reason: "is required" });
  if (!options.appSecret) throw new ConfigError("CONFIG_INVALID", { source: "authConfig.appSecret", reason: "is required" });
  const base = resolveApiBase(options.apiBase, options.env ?? process.env);
  const timeoutMs = options.timeoutMs ?? DEFAULT_WECHAT_TIMEOUT_MS;
  const { appId, appSecret } = options;
  // Login needs no access token. When checkSessionKey / getPhoneNumber arrive, fetch it with
  // POST /cgi-bin/stable_token (shared by every server of one AppID) and cache it for its
  // returned lifetime minus a margin; never /cgi-bin/token, which knocks other servers out.

  // One got instance per client, its options merged and checked once: per call, got then
  // sets only the query (measured: about 0.03 ms less CPU per login than full options per call).
  // got is imported on the first request: loading it costs about 0.1 s of start-up that
  // commands which never call WeChat (elements, validate, show) need not pay.
  let http: Got | undefined;
  const makeHttp = async (): Promise<Got> => (await import("got")).default.extend({
    prefixUrl: base,
    // got retries GET twice by default: a retry after WeChat consumed the code gives 40163.
    retry: { limit: 0 },
    // got has no timeout by default.
    timeout: { request: timeoutMs },
    // WeChat reports errors with HTTP 200 and an errcode in the body; other statuses are read by hand.
    throwHttpErrors: false,
    // Bodies have been served as text/plain: take the text and parse it ourselves.
    responseType: "text",
    followRedirect: false,
  });

  async function request(jsCode: string): Promise<{ statusCode: number; body: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        http ??= await makeHttp();
        const response = await http("sns/jscode2session", {
          searchParams: { appid: appId, secret: appSecret, js_code: jsCode, grant_type: "authorization_code" },
        });
        return { statusCode: response.statusCode, body: response.body as string };
      } catch (err) {
        // Wrap at once: got's error holds the request options (URL with secret= and js_code=).
        const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : "";
        if (attempt === 1 && NEVER_REACHED.has(code)) continue;
        const reason = networkReason(err, timeoutMs);
        throw new WeChatRequestError("WECHAT_UNAVAILABLE", { reason: attempt > 1 ? `${reason} (${attempt} attempts)` : reason, attempts: attempt });
      }
    }
  }

  return {
    async code2Session(jsCode: string): Promise<WeChatSession> {
      const { statusCode, body } = await request(jsCode);
      if (statusCode >= 500) throw new WeChatResponseError("WECHAT_UNAVAILABLE", { reason: `HTTP ${statusCode} from WeChat` });
      let data: unknown;
      try {
        // Parse whatever the content type says (WeChat has answered JSON as text/plain).
        data = JSON.parse(body);
      } catch {
        throw new WeChatResponseError("WECHAT_UNAVAILABLE", { reason: `answer is not JSON (HTTP ${statusCode})` });
      }
      if (!data || typeof data !== "object" || Array.isArray(data)) {
        throw new WeChatResponseError("WECHAT_UNAVAILABLE", { reason: `answer is not a JSON object (HTTP ${statusCode})` });
      }
      const record = data as Record<string, unknown>;
      // errcode has been seen as a string ("40029"): normalise before comparing.
      const errcode = normaliseErrcode(record.errcode);
      if (errcode !== undefined && Number.isNaN(errcode)) {
        throw new WeChatResponseError("WECHAT_UNAVAILABLE", { reason: "errcode in the answer is not a number" });
      }
      if (errcode !== undefined && errcode !== 0) {
        const rid = parseRid(record.errmsg);
        throw new WeChatApiError(codeForErrcode(errcode), { errcode, ...(rid ? { rid } : {}) });
      }
      // On success errcode is usually absent, sometimes 0; unknown extra fields are ignored.
      const { openid, session_key: sessionKey, unionid } = record;
      if (typeof openid !== "string" || !openid || typeof sessionKey !== "string" || !sessionKey) {
        throw new WeChatResponseError("WECHAT_UNAVAILABLE", { reason: `answer lacks openid or session_key (HTTP ${statusCode})` });
      }
      return { openId: openid, unionId: typeof unionid === "string" && unionid ? unionid : null, sessionKey };
    },
  };
}
