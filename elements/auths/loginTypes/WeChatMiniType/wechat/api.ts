import { businessErrcodes } from "./errcodes.ts";
import type { WeChatHttp } from "./http.ts";
import { WeChatResponseError } from "./errors.ts";

/**
 * The calls behind the login Type's other functions (WeChat's server API): stable_token, and the
 * three that need its access token. Each keeps only the fields it uses. The token goes in the
 * query string, where only wechat/http.ts sees it.
 */
export interface WeChatServerApi {
  /** POST /cgi-bin/stable_token (never /cgi-bin/token, which knocks out every other server). */
  stableToken(forceRefresh: boolean): Promise<{ token: string; expiresInSeconds: number }>;
  /** Resolves when WeChat holds `signature`'s key as current; WECHAT_SESSION_KEY_STALE (87009) otherwise. */
  checkSession(accessToken: string, openId: string, signature: string): Promise<void>;
  /** The new session_key; WECHAT_SESSION_KEY_STALE when `signature` was made with a stale key. */
  resetSessionKey(accessToken: string, openId: string, signature: string): Promise<{ sessionKey: string }>;
  getPhoneNumber(accessToken: string, code: string): Promise<PhoneInfo>;
}

export interface PhoneInfo {
  phoneNumber: string;
  purePhoneNumber: string;
  /** Always a string: WeChat has sent it as a number too. */
  countryCode: string;
  watermarkAppId: string;
}

const sessionErrcodes = businessErrcodes({ 87009: "WECHAT_SESSION_KEY_STALE" });
const phoneErrcodes = businessErrcodes({ 40029: "WECHAT_PHONE_CODE_INVALID", 40163: "WECHAT_PHONE_CODE_INVALID" });

const text = (value: unknown): string | null => (typeof value === "string" && value.length > 0 ? value : null);

export function createWeChatServerApi(http: WeChatHttp, appId: string, appSecret: string): WeChatServerApi {
  return {
    async stableToken(forceRefresh) {
      const record = await http("cgi-bin/stable_token", {
        method: "POST",
        searchParams: {},
        json: { grant_type: "client_credential", appid: appId, secret: appSecret, ...(forceRefresh ? { force_refresh: true } : {}) },
        errcodes: businessErrcodes(),
      });
      const token = text(record.access_token);
      const expiresIn = Number(record.expires_in);
      if (!token || !Number.isFinite(expiresIn) || expiresIn <= 0) {
        throw new WeChatResponseError("WECHAT_UNAVAILABLE", { reason: "stable_token answer lacks access_token or expires_in" });
      }
      return { token, expiresInSeconds: expiresIn };
    },

    async checkSession(accessToken, openId, signature) {
      await http("wxa/checksession", {
        searchParams: { access_token: accessToken, openid: openId, signature, sig_method: "hmac_sha256" },
        errcodes: sessionErrcodes,
      });
    },

    async resetSessionKey(accessToken, openId, signature) {
      const record = await http("wxa/resetusersessionkey", {
        searchParams: { access_token: accessToken, openid: openId, signature, sig_method: "hmac_sha256" },
        errcodes: sessionErrcodes,
      });
      const sessionKey = text(record.session_key);
      if (!sessionKey || record.openid !== openId) {
        throw new WeChatResponseError("WECHAT_UNAVAILABLE", { reason: "resetusersessionkey answer lacks session_key or names another openid" });
      }
      return { sessionKey };
    },

    async getPhoneNumber(accessToken, code) {
      const record = await http("wxa/business/getuserphonenumber", {
        method: "POST",
        searchParams: { access_token: accessToken },
        json: { code },
        errcodes: phoneErrcodes,
      });
      const info = record.phone_info as Record<string, unknown> | undefined;
      const watermark = info?.watermark as Record<string, unknown> | undefined;
      const phoneNumber = text(info?.phoneNumber);
      const purePhoneNumber = text(info?.purePhoneNumber);
      const rawCountry = info?.countryCode;
      // countryCode arrives as a string or as a number.
      const countryCode = typeof rawCountry === "number" && Number.isInteger(rawCountry) ? String(rawCountry) : text(rawCountry);
      const watermarkAppId = text(watermark?.appid);
      if (!phoneNumber || !purePhoneNumber || !countryCode || !/^\d{1,4}$/.test(countryCode) || !/^\d{3,20}$/.test(purePhoneNumber) || !watermarkAppId) {
        throw new WeChatResponseError("WECHAT_UNAVAILABLE", { reason: "getuserphonenumber answer lacks phone_info fields or has malformed ones" });
      }
      return { phoneNumber, purePhoneNumber, countryCode, watermarkAppId };
    },
  };
}
