import { randomBytes } from "node:crypto";
import type { Clock } from "jit-runtime/element";
import { sendJson, wxError, type FakeHandler } from "./fakeHttp.ts";
import type { FakeTokenControls } from "./fakeAccessToken.ts";

export interface MintPhoneCodeInput {
  appId: string;
  /** Digits without the country code, e.g. "13800138000". */
  purePhoneNumber: string;
  /** Default "86". */
  countryCode?: string;
  /** Send countryCode as a JSON number (WeChat has done both). */
  countryCodeAsNumber?: boolean;
  /** The AppID the answer's watermark names (default: appId), to play another mini program's answer. */
  watermarkAppId?: string;
}

interface PhoneCode extends MintPhoneCodeInput {
  expiresAt: number;
  used: boolean;
}

/**
 * POST /wxa/business/getuserphonenumber: phone-button codes minted like login codes, one
 * use each (a second use is 40029, as an unknown or expired one), valid for their AppID only.
 */
export function createPhoneRoutes(deps: { clock: Clock; codeTtlMs: number; tokens: FakeTokenControls; count(): void }): {
  getPhoneNumber: FakeHandler;
  mintPhoneCode(input: MintPhoneCodeInput): string;
} {
  const codes = new Map<string, PhoneCode>();

  const getPhoneNumber: FakeHandler = (_req, res, query, body) => {
    deps.count();
    const token = deps.tokens.tokenOf(query, "getuserphonenumber");
    if ("errcode" in token) return sendJson(res, 200, token);
    let code: unknown;
    try {
      code = (JSON.parse(body) as Record<string, unknown>)?.code;
    } catch {
      return sendJson(res, 200, wxError(47001, "data format error"));
    }
    const record = typeof code === "string" ? codes.get(code) : undefined;
    if (!record || record.used || record.appId !== token.appId || record.expiresAt <= deps.clock.now()) return sendJson(res, 200, wxError(40029));
    record.used = true;
    const country = record.countryCode ?? "86";
    sendJson(res, 200, {
      errcode: 0,
      errmsg: "ok",
      phone_info: {
        // WeChat puts the country code in phoneNumber only for numbers outside mainland China.
        phoneNumber: country === "86" ? record.purePhoneNumber : `+${country}${record.purePhoneNumber}`,
        purePhoneNumber: record.purePhoneNumber,
        countryCode: record.countryCodeAsNumber ? Number(country) : country,
        watermark: { timestamp: Math.floor(deps.clock.now() / 1000), appid: record.watermarkAppId ?? record.appId },
      },
    });
  };

  function mintPhoneCode(input: MintPhoneCodeInput): string {
    if (!input || typeof input.appId !== "string" || !input.appId || typeof input.purePhoneNumber !== "string" || !/^\d{3,20}$/.test(input.purePhoneNumber)) {
      throw new TypeError("mintPhoneCode needs appId and purePhoneNumber (digits)");
    }
    const code = randomBytes(24).toString("base64url");
    codes.set(code, { ...input, expiresAt: deps.clock.now() + deps.codeTtlMs, used: false });
    return code;
  }

  return { getPhoneNumber, mintPhoneCode };
}
