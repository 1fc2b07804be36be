import { isJitError } from "jit-runtime/element";
import type { WeChatGateway } from "./gateway.ts";
import { sessionSignature } from "./vault/index.ts";
import { WeChatApiError, type WeChatError } from "./wechat/errors.ts";

/**
 * checksession and resetusersessionkey: both prove the server holds the user's session_key
 * by a signature, HMAC-SHA256 keyed by the stored session_key text as received (not
 * base64-decoded), over the empty string. The key itself never leaves the server.
 */

/** `{ valid: false }` when WeChat answers 87009 (the stored key is stale): not an error. */
export async function checkSessionKeyOf(gateway: WeChatGateway, userId: number): Promise<{ valid: boolean }> {
  const openId = await gateway.openIdOf(userId);
  const signature = sessionSignature(await gateway.sessionKeyOf(userId));
  const { api, tokens } = await gateway.server();
  try {
    await tokens.withToken((token) => api.checkSession(token, openId, signature));
    return { valid: true };
  } catch (err) {
    if (isJitError(err) && err.code === "WECHAT_SESSION_KEY_STALE") return { valid: false };
    throw err;
  }
}

/** Has WeChat issue a new session_key and keeps it sealed; WECHAT_SESSION_KEY_STALE names the user. */
export async function resetSessionKeyOf(gateway: WeChatGateway, userId: number): Promise<{ success: true }> {
  const openId = await gateway.openIdOf(userId);
  const signature = sessionSignature(await gateway.sessionKeyOf(userId));
  const { api, tokens } = await gateway.server();
  let sessionKey: string;
  try {
    ({ sessionKey } = await tokens.withToken((token) => api.resetSessionKey(token, openId, signature)));
  } catch (err) {
    if (isJitError(err) && err.code === "WECHAT_SESSION_KEY_STALE") {
      const { errcode, rid } = err as WeChatError;
      throw new WeChatApiError("WECHAT_SESSION_KEY_STALE", { userId, errcode, ...(rid ? { rid } : {}) });
    }
    throw err;
  }
  await gateway.keepSessionKey(openId, sessionKey);
  return { success: true };
}
