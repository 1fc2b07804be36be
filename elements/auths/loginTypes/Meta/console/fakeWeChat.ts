import { WeChatRequestError } from "../../WeChatMiniType/wechat/errors.ts";

/**
 * The console's simulated mini program asks the fake WeChat server for wx.login codes. Only
 * a base on loopback over plain HTTP qualifies: WeChat itself is never on loopback, so the
 * console cannot be turned into a client of the real API.
 */
const LOOPBACK = new Set(["127.0.0.1", "localhost", "[::1]"]);

export function fakeWeChatBase(base: string | undefined): string | null {
  if (!base) return null;
  let url: URL;
  try {
    url = new URL(base);
  } catch {
    return null;
  }
  return url.protocol === "http:" && LOOPBACK.has(url.hostname) ? url.origin : null;
}

/** POST <fake>/__fake/codes; the code is handed to the console's simulated mini program only. */
export async function mintAtFake(base: string, input: { appId: string; openId: string; unionId: string | null }): Promise<string> {
  let answer: unknown;
  try {
    const res = await fetch(`${base}/__fake/codes`, {
      method: "POST",
      headers: { "content-type": "application/json" },
      body: JSON.stringify({ appId: input.appId, openId: input.openId, ...(input.unionId ? { unionId: input.unionId } : {}) }),
      signal: AbortSignal.timeout(5000),
    });
    answer = res.ok ? await res.json() : null;
  } catch {
    answer = null;
  }
  const code = (answer as { code?: unknown } | null)?.code;
  if (typeof code !== "string" || code === "") throw new WeChatRequestError("WECHAT_UNAVAILABLE", { reason: `the fake WeChat server at ${base} did not mint a code (is it running?)` });
  return code;
}
