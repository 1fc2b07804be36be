import type { RowData } from "jit-runtime/element";
import type { LoginTypeApi, RegisteredUser } from "../Meta/types.ts";
import type { PhoneNumberResult } from "./phone.ts";

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
  /** The phone number behind a phone-button code, stored on the user (`userId`, else the logged-in caller). */
  getPhoneNumber(code: string, userId?: number): Promise<PhoneNumberResult>;
  /** register() with the phone number behind `phoneCode` stored on the new user (allowRegister 1). */
  registerByPhone(bindCode: string, phoneCode: string): Promise<RowData<RegisteredUser & { phone: string }>>;
  /** Whether WeChat holds the stored session_key as current. Server side only (not over HTTP). */
  checkSessionKey(userId: number): Promise<{ valid: boolean }>;
  /** A new session_key from WeChat, stored sealed. Server side only (not over HTTP). */
  resetSessionKey(userId: number): Promise<{ success: true }>;
}

export type * from "../Meta/types.ts";
