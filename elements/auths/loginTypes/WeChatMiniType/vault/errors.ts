import { type ErrorTable, defineErrorClass } from "jit-runtime/element";
import { WECHAT_MINI_TYPE } from "../../Meta/errors.ts";

/** Session keys and encrypted user data: the vault's codes. */
export const VAULT_ERROR_CODES = {
  SESSION_KEY_MISSING: { family: "vault", status: 409, message: "no WeChat session key is stored for user {userId}; the client must wx.login again", answeredBy: [WECHAT_MINI_TYPE] },
  SESSION_KEY_STALE: { family: "vault", status: 409, message: "the data was not encrypted with the stored session key (stale key); the client must wx.login again and resend", answeredBy: [WECHAT_MINI_TYPE] },
  ENCRYPTED_DATA_MALFORMED: { family: "vault", status: 400, message: "{field} is malformed: {reason}", answeredBy: [WECHAT_MINI_TYPE] },
  WATERMARK_MISMATCH: { family: "vault", status: 400, message: "decrypted data belongs to another mini program (watermark appid differs)", answeredBy: [WECHAT_MINI_TYPE] },
  SIGNATURE_INVALID: { family: "vault", status: 400, message: "rawData signature does not match", answeredBy: [WECHAT_MINI_TYPE] },
  VAULT_SEAL_INVALID: { family: "vault", status: 500, message: "stored session key for mini program {appId} cannot be opened (tampered or sealed with another master key)", answeredBy: [WECHAT_MINI_TYPE] },
} as const satisfies ErrorTable;

export const VaultError = defineErrorClass("VaultError", "vault", VAULT_ERROR_CODES);
