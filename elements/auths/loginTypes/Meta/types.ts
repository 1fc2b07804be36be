import type { RowData } from "jit-runtime/element";
/** Results shared by every login Type (auths.loginTypes.*). */

export interface CorpRef {
  corpId: string;
  corpName: string;
}

/** A registered user: exchange `loginCode` through AuthSvc.loginByCode within `expiresIn` seconds. */
export interface LoginCodeResult {
  loginCode: string;
  corpList: CorpRef[];
  userId: number;
  expiresIn: 300;
}

/** An unregistered user (allowRegister 1): pass `bindCode` to register() within `expiresIn` seconds. */
export interface BindCodeResult {
  bindCode: string;
  expiresIn: 300;
}

export type GetLoginCodeResult = LoginCodeResult | BindCodeResult;

/**
 * What register() returns as a RowData (`user.userId.value`; JSON gives this plain record):
 * the new user and its first login code, for AuthSvc.loginByCode within `expiresIn` seconds.
 */
export interface RegisteredUser extends Record<string, unknown> {
  userId: number;
  name: string | null;
  corpList: CorpRef[];
  createdAt: number;
  loginCode: string;
  expiresIn: 300;
}

export interface BindResult {
  success: true;
  userId: number;
  openId: string;
}

export interface UnbindResult {
  success: true;
}

/** Public description of a login type: never holds the authConfig's secret. */
export interface LoginConfig {
  fullName: string;
  title: string;
  authType: string;
  allowRegister: 0 | 1;
  isActive: boolean;
  appId: string | null;
}

/** Lifetime of bind and login codes. */
export const CODE_TTL_SECONDS = 300;

/** What every login Type exposes (the Meta's interface); test/login.contract.ts checks it. */
export interface LoginTypeApi {
  readonly authType: string;
  readonly allowRegister: 0 | 1;
  readonly isActive: boolean;
  getLoginConfig(): LoginConfig;
  getLoginCode(code: string): Promise<GetLoginCodeResult>;
  register(bindCode: string): Promise<RowData<RegisteredUser>>;
  bind(userId: number, code: string): Promise<BindResult>;
  unbind(userId: number): Promise<UnbindResult>;
}
