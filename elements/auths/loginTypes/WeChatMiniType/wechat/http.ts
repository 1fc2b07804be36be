import type { Dispatcher } from "undici";
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

/** Our deadline for one call (undici's own timeouts are per phase, not for the whole call). */
class DeadlineError extends Error {}

/**
 * A short, secret-free reason for a network failure. Never undici's message or the URL: the
 * query string carries secret=, js_code= and access_token=.
 */
function networkReason(err: unknown, timeoutMs: number): string {
  const code = err && typeof err === "object" && "code" in err ? String((err as { code?: unknown }).code ?? "") : "";
  if (err instanceof DeadlineError) return `timeout after ${timeoutMs} ms`;
  switch (code) {
    case "ETIMEDOUT":
    case "UND_ERR_CONNECT_TIMEOUT":
    case "UND_ERR_HEADERS_TIMEOUT":
    case "UND_ERR_BODY_TIMEOUT":
      return `timeout after ${timeoutMs} ms`;
    case "ECONNREFUSED":
      return "connection refused";
    case "ENOTFOUND":
      return "host name not found";
    case "EAI_AGAIN":
      return "host name lookup failed (temporary)";
    case "ECONNRESET":
    case "EPIPE":
    case "UND_ERR_SOCKET":
      return "connection closed before a complete answer";
    default:
      return /^[A-Z][A-Z0-9_]{1,40}$/.test(code) ? `network error (${code})` : "network error";
  }
}

/**
 * The one way to WeChat's server API: every failure is one of our three error classes
 * (ARCHITECTURE.md, "Pitfalls"), never the HTTP client's error.
 *
 * The client is undici (a connection pool per origin, keep-alive): it costs about a tenth of
 * got's CPU per call (28 against 266 µs at 32 calls in flight, docs/benchmarks.md), and a
 * login makes one call.
 */
export function createWeChatHttp(base: string, timeoutMs: number): WeChatHttp {
  // undici is imported on the first request: commands that never call WeChat (elements,
  // validate, show) need not load it.
  let agent: Dispatcher | undefined;
  const makeAgent = async (): Promise<Dispatcher> => {
    const { Agent } = await import("undici");
    // No redirects and no retries are undici's defaults: a retry after WeChat consumed a code
    // gives 40163. Idle sockets do not keep the process alive.
    return new Agent({ connect: { timeout: timeoutMs } });
  };
  // A path relative to the base, as the base's own path goes on ("https://host/prefix/" + "sns/…").
  const baseUrl = new URL(base.endsWith("/") ? base : `${base}/`);

  async function once(path: string, call: WeChatCall): Promise<{ statusCode: number; body: string }> {
    agent ??= await makeAgent();
    const url = new URL(path, baseUrl);
    for (const [key, value] of Object.entries(call.searchParams)) url.searchParams.set(key, value);
    // One deadline for the whole call (connect, answer and body), which the code ledger's
    // lease is measured against; undici's timeouts bound each phase only.
    const deadline = new AbortController();
    const timer = setTimeout(() => deadline.abort(new DeadlineError()), timeoutMs);
    try {
      const response = await agent.request({
        origin: url.origin,
        path: `${url.pathname}${url.search}`,
        method: call.method ?? "GET",
        ...(call.json ? { headers: { "content-type": "application/json" }, body: JSON.stringify(call.json) } : {}),
        signal: deadline.signal,
      });
      // WeChat has answered JSON as text/plain: take the text and parse it ourselves.
      return { statusCode: response.statusCode, body: await response.body.text() };
    } catch (err) {
      throw deadline.signal.aborted ? deadline.signal.reason : err;
    } finally {
      clearTimeout(timer);
    }
  }

  async function send(path: string, call: WeChatCall): Promise<{ statusCode: number; body: string }> {
    for (let attempt = 1; ; attempt++) {
      try {
        return await once(path, call);
      } catch (err) {
        // Wrapped at once: nothing of the client's error (it may name the URL) goes further.
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
