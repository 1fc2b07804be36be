import type { Got } from "got";
import type { WeChatErrorCode as ErrorCode } from "./errors.ts";
import { normaliseErrcode, parseRid } from "./errcodes.ts";
import { WeChatApiError, WeChatRequestError, WeChatResponseError } from "./errors.ts";

/** One request to WeChat: the query and/or JSON body, and how its errcodes map to our codes. */
export interface WeChatCall {
  method?: "GET" | "POST";
  /** Secrets travel here (secret=, js_code=, access_token=): never logged, never in an error. */
  searchParams: Record<string, string>;
  json?: Record<string, unknown>;
  errcodes: (errcode: number) => ErrorCode;
}

export type WeChatHttp = (path: string, call: WeChatCall) => Promise<Record<string, unknown>>;

/** Connect failures that provably never reached WeChat: the request is not acted on, one retry is safe. */
const NEVER_REACHED = new Set(["ECONNREFUSED", "ENOTFOUND", "EAI_AGAIN"]);

/**
 * A short, secret-free reason for a network failure. Never the got message or URL: they
 * carry secret=, js_code= and access_token= from the query string.
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

/**
 * The one way to WeChat's server API: every failure is one of our three error classes
 * (ARCHITECTURE.md, "Pitfalls"), never got's error (it holds the request options, URL and secrets).
 */
export function createWeChatHttp(base: string, timeoutMs: number): WeChatHttp {
  // One got instance, its options merged and checked once: per call, got then sets only the
  // query (measured: about 0.03 ms less CPU per login than full options per call).
  // got is imported on the first request: loading it costs about 0.1 s of start-up that
  // commands which never call WeChat (elements, validate, show) need not pay.
  let http: Got | undefined;
  const makeHttp = async (): Promise<Got> => (await import("got")).default.extend({
    prefixUrl: base,
    // got retries GET twice by default: a retry after WeChat consumed a code gives 40163.
    retry: { limit: 0 },
    // got has no timeout by default.
    timeout: { request: timeoutMs },
    // WeChat reports errors with HTTP 200 and an errcode in the body; other statuses are read by hand.
    throwHttpErrors: false,
    // Bodies have been served as text/plain: take the text and parse it ourselves.
    responseType: "text",
    followRedirect: false,
  });

  async function send(path: string, call: WeChatCall): Promise<{ statusCode: number; body: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        http ??= await makeHttp();
        const response = await http(path, {
          method: call.method ?? "GET",
          searchParams: call.searchParams,
          ...(call.json ? { json: call.json } : {}),
        });
        return { statusCode: response.statusCode, body: response.body as string };
      } catch (err) {
        // Wrap at once: got's error holds the request options (URL with the secrets).
        const code = typeof (err as { code?: unknown })?.code === "string" ? (err as { code: string }).code : "";
        // Only a connection that was never made is retried: WeChat cannot have acted on it.
        if (attempt === 1 && NEVER_REACHED.has(code)) continue;
        const reason = networkReason(err, timeoutMs);
        throw new WeChatRequestError("WECHAT_UNAVAILABLE", { reason: attempt > 1 ? `${reason} (${attempt} attempts)` : reason, attempts: attempt });
      }
    }
  }

  return async (path, call) => {
    const { statusCode, body } = await send(path, call);
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
    // WeChat reports errors with HTTP 200 and a non-zero errcode in the body.
    if (errcode !== undefined && errcode !== 0) {
      const rid = parseRid(record.errmsg);
      throw new WeChatApiError(call.errcodes(errcode), { errcode, ...(rid ? { rid } : {}) });
    }
    return record;
  };
}
