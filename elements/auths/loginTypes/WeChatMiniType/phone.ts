import { isJitError } from "jit-runtime/element";
import type { WeChatGateway } from "./gateway.ts";
import { WeChatApiError } from "./wechat/errors.ts";

/** What getPhoneNumber answers (countryCode always a string, whatever WeChat sent). */
export interface PhoneNumberResult {
  phoneNumber: string;
  purePhoneNumber: string;
  countryCode: string;
}

/** The number as the store keeps it, one spelling per number: "+<country code><number>". */
export function storedPhone(result: PhoneNumberResult): string {
  return `+${result.countryCode}${result.purePhoneNumber}`;
}

/**
 * Exchanges a phone-button code for the user's number. A code is sent to WeChat at most
 * once (each successful answer is billed, and WeChat refuses a second use anyway): a repeat,
 * concurrent or later, is WECHAT_PHONE_CODE_INVALID without a request. Only a failure before
 * the code left (no access token) leaves it usable. The one retry withToken makes after a
 * rejected token is safe: WeChat refused the token before it looked at the code.
 * The answer must name this mini program (watermark.appid), else nothing is kept.
 */
export async function phoneNumberFor(gateway: WeChatGateway, code: string): Promise<PhoneNumberResult> {
  const { api, tokens } = await gateway.server();
  let sent = false;
  try {
    const info = await gateway.ledger().claim(
      code,
      "getPhoneNumber",
      () =>
        tokens.withToken((token) => {
          sent = true;
          return api.getPhoneNumber(token, code);
        }),
      { keep: () => false, retryable: () => !sent },
    );
    if (info.watermarkAppId !== gateway.appId) throw new WeChatApiError("WECHAT_PHONE_FOREIGN");
    return { phoneNumber: info.phoneNumber, purePhoneNumber: info.purePhoneNumber, countryCode: info.countryCode };
  } catch (err) {
    // The ledger refuses a repeat as WECHAT_CODE_USED (wx.login's wording): say it of a phone code.
    if (isJitError(err) && err.code === "WECHAT_CODE_USED") throw new WeChatApiError("WECHAT_PHONE_CODE_INVALID", { errcode: 40029 });
    throw err;
  }
}
