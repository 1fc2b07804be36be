/**
 * `jit-runtime/login`: what an app author needs from the login family. The interfaces of its
 * elements (for `app.getElement<WeChatMiniLogin>(...)`) and the class a Type override of
 * `auths.loginTypes.WeChatMiniType`, or a Type extending it, receives as `Parent`.
 */
import type { LoginType } from "./auths/loginTypes/Meta/index.ts";
import type { WeChatMiniLogin } from "./auths/loginTypes/WeChatMiniType/types.ts";
import type { PasswordLogin } from "./auths/loginTypes/PasswordType/types.ts";

export { LoginType } from "./auths/loginTypes/Meta/index.ts";
export type * from "./auths/loginTypes/Meta/types.ts";
export type { WeChatMiniLogin, WeChatMiniAuthConfig } from "./auths/loginTypes/WeChatMiniType/types.ts";
export type { PasswordLogin, PasswordAuthConfig, PasswordBindResult } from "./auths/loginTypes/PasswordType/types.ts";
export type { PhoneNumberResult } from "./auths/loginTypes/WeChatMiniType/phone.ts";
export type { AuthService, CurrentUser, LoginSession } from "./auths/loginTypes/services/AuthSvc/index.ts";
export type { Store } from "./auths/storage/Store.ts";
export { storeOf } from "./auths/storage/storeOf.ts";

/**
 * `Parent` of a WeChatMiniType override: `export default (Parent: WeChatMiniClass) => class
 * extends Parent { ... }`. Its instances are login elements (config, app, logger of
 * ElementBase) with the WeChat methods.
 */
export type WeChatMiniClass = new (...args: any[]) => LoginType & WeChatMiniLogin;

/** `Parent` of a PasswordType override: `export default (Parent: PasswordClass) => class extends Parent { ... }`. */
export type PasswordClass = new (...args: any[]) => LoginType & PasswordLogin;
