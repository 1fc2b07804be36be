import type { RowData } from "jit-runtime/element";
import type { LoginConfig, LoginCodeResult, RegisteredUser, UnbindResult } from "../Meta/types.ts";

/** authConfig of a PasswordType instance (config.schema.json). */
export interface PasswordAuthConfig {
  registerCorpId?: string;
  registerCorpName?: string;
  scrypt?: { ln: number; r: number; p: number };
}

export interface PasswordBindResult {
  success: true;
  userId: number;
  /** The username as stored (normalised). */
  username: string;
}

/** The public interface of a PasswordType instance: `app.getElement<PasswordLogin>(fullName)`. */
export interface PasswordLogin {
  readonly fullName: string;
  readonly title: string;
  readonly authType: string;
  readonly allowRegister: 0 | 1;
  readonly isActive: boolean;
  /** Where this Type's usernames are unique: `password:<appId>`. */
  readonly realm: string;
  getLoginConfig(): LoginConfig;
  register(username: string, password: string, name?: string | null): Promise<RowData<RegisteredUser>>;
  getLoginCode(username: string, password: string): Promise<LoginCodeResult>;
  bind(userId: number, username: string, password: string): Promise<PasswordBindResult>;
  unbind(userId: number): Promise<UnbindResult>;
  updatePassword(oldPassword: string, newPassword: string): Promise<{ success: true }>;
}
