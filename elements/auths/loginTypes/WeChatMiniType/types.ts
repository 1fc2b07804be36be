import type { LoginTypeApi } from "../Meta/types.ts";

/** authConfig of a WeChatMiniType instance (config.schema.json). */
export interface WeChatMiniAuthConfig {
  appId: string;
  appSecret: string;
  apiBase?: string;
  registerCorpId?: string;
  registerCorpName?: string;
  timeoutMs?: number;
}

/** The public interface of a WeChatMiniType instance: `app.getElement<WeChatMiniLogin>(fullName)`. */
export interface WeChatMiniLogin extends LoginTypeApi {
  readonly fullName: string;
  readonly title: string;
  /** The mini program's AppID (public). */
  readonly appId: string;
  /** Decrypts wx open data (getUserInfo, legacy getPhoneNumber) with the user's stored session key. */
  decryptData(userId: number, encryptedData: string, iv: string): Promise<Record<string, unknown>>;
  /** Checks a rawData signature (sha1(rawData + session_key)) with the user's stored session key. */
  verifyRawData(userId: number, rawData: string, signature: string): Promise<{ valid: true }>;
}

export type * from "../Meta/types.ts";
