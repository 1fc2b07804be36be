import type { RowData } from "../../../../runtime/datatypes/RowData.ts";
import type {
  BindResult,
  GetLoginCodeResult,
  LoginConfig,
  RegisteredUser,
  UnbindResult,
} from "../Meta/types.ts";

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
export interface WeChatMiniLogin {
  readonly fullName: string;
  readonly title: string;
  readonly authType: string;
  /** The mini program's AppID (public). */
  readonly appId: string;
  readonly allowRegister: 0 | 1;
  readonly isActive: boolean;
  getLoginConfig(): LoginConfig;
  getLoginCode(code: string): Promise<GetLoginCodeResult>;
  register(bindCode: string): Promise<RowData<RegisteredUser>>;
  bind(userId: number, code: string): Promise<BindResult>;
  unbind(userId: number): Promise<UnbindResult>;
  /** Decrypts wx open data (getUserInfo, legacy getPhoneNumber) with the user's stored session key. */
  decryptData(userId: number, encryptedData: string, iv: string): Promise<Record<string, unknown>>;
  /** Checks a rawData signature (sha1(rawData + session_key)) with the user's stored session key. */
  verifyRawData(userId: number, rawData: string, signature: string): Promise<{ valid: true }>;
}

export type * from "../Meta/types.ts";
