import { type ErrorTable, defineErrorClass, type ErrorParams } from "jit-runtime/element";
import { WECHAT_MINI_TYPE } from "../../Meta/errors.ts";

/**
 * The WeChat server API's codes. Retry-After: WeChat's own rate limit (45011) is per minute;
 * "busy" and unreachable are transient.
 */
export const WECHAT_ERROR_CODES = {
  WECHAT_CODE_INVALID: { family: "wechat", status: 400, message: "WeChat rejected the login code as invalid (errcode {errcode}){rid}", answeredBy: [WECHAT_MINI_TYPE] },
  WECHAT_CODE_USED: { family: "wechat", status: 400, message: "the wx.login code was already used; call wx.login again (errcode {errcode}){rid}", answeredBy: [WECHAT_MINI_TYPE] },
  WECHAT_RATE_LIMITED: { family: "wechat", status: 429, message: "WeChat rate limit reached (errcode {errcode}){rid}", answeredBy: [WECHAT_MINI_TYPE], retryAfter: 60 },
  WECHAT_USER_BLOCKED: { family: "wechat", status: 403, message: "WeChat blocked this high-risk user (errcode {errcode}){rid}", answeredBy: [WECHAT_MINI_TYPE] },
  WECHAT_BUSY: { family: "wechat", status: 503, message: "WeChat is busy, try again (errcode {errcode}){rid}", answeredBy: [WECHAT_MINI_TYPE], retryAfter: 5 },
  WECHAT_BAD_CREDENTIALS: { family: "wechat", status: 502, message: "WeChat rejected the mini program's AppID or AppSecret (errcode {errcode}){rid}", answeredBy: [WECHAT_MINI_TYPE] },
  WECHAT_UNAVAILABLE: { family: "wechat", status: 503, message: "WeChat could not be reached or gave an unreadable answer: {reason}", answeredBy: [WECHAT_MINI_TYPE], retryAfter: 5 },
  WECHAT_ERROR: { family: "wechat", status: 502, message: "WeChat answered with errcode {errcode}{rid}", answeredBy: [WECHAT_MINI_TYPE] },
  WECHAT_TOKEN_REJECTED: { family: "wechat", status: 502, message: "WeChat rejected the mini program's access token (errcode {errcode}){reason}{rid}", answeredBy: [WECHAT_MINI_TYPE] },
  WECHAT_PHONE_CODE_INVALID: { family: "wechat", status: 400, message: "the phone-number code is invalid, expired or already used; ask again with the phone button (errcode {errcode}){rid}", answeredBy: [WECHAT_MINI_TYPE] },
  WECHAT_PHONE_FOREIGN: { family: "wechat", status: 502, message: "WeChat's phone number answer names another mini program (watermark appid differs); nothing was stored", answeredBy: [WECHAT_MINI_TYPE] },
  WECHAT_SESSION_KEY_STALE: { family: "wechat", status: 409, message: "WeChat says the stored session key of user {userId} is stale; the client must wx.login again (errcode {errcode}){rid}", answeredBy: [WECHAT_MINI_TYPE] },
} as const satisfies ErrorTable;

export type WeChatErrorCode = keyof typeof WECHAT_ERROR_CODES;

const WeChatErrorBase = defineErrorClass("WeChatError", "wechat", WECHAT_ERROR_CODES);

/**
 * WeChat failures come through three channels, each its own class (ARCHITECTURE.md,
 * "Pitfalls"):
 * - WeChatRequestError: no answer at all (timeout, refused, reset) → WECHAT_UNAVAILABLE
 * - WeChatApiError: WeChat answered with an errcode (in an HTTP 200 body)
 * - WeChatResponseError: an answer that is not the expected shape (5xx, non-JSON)
 */
export class WeChatError extends WeChatErrorBase {
  readonly errcode: number | undefined;
  readonly rid: string | undefined;
  constructor(code: WeChatErrorCode, params: ErrorParams & { errcode?: number; rid?: string } = {}) {
    super(code, { ...params, rid: params.rid ? ` (rid: ${params.rid})` : "" });
    this.errcode = params.errcode;
    this.rid = params.rid;
  }
  override toJSON() {
    return { ...super.toJSON(), ...(this.errcode !== undefined ? { errcode: this.errcode } : {}), ...(this.rid ? { rid: this.rid } : {}) };
  }
}
export class WeChatRequestError extends WeChatError {}
export class WeChatApiError extends WeChatError {}
export class WeChatResponseError extends WeChatError {}
