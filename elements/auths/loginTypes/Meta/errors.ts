import { type ErrorTable, defineErrorClass } from "jit-runtime/element";

/**
 * The login family's codes: the login flow of every login Type. The family module
 * (family.ts) hands them to the loader with the WeChat and vault codes; ARCHITECTURE.md says
 * how a family's codes join the app's table.
 */

export const WECHAT_MINI_TYPE = "auths.loginTypes.WeChatMiniType";
export const PASSWORD_TYPE = "auths.loginTypes.PasswordType";

export const LOGIN_ERROR_CODES = {
  LOGIN_TYPE_INACTIVE: { family: "login", status: 403, message: "login type {fullName} is not active" },
  USER_AUTH_MISS: { family: "login", status: 403, message: "this WeChat user is not registered and {fullName} does not allow registration", answeredBy: [WECHAT_MINI_TYPE] },
  BIND_CODE_INVALID: { family: "login", status: 400, message: "bind code is unknown or already used", answeredBy: [WECHAT_MINI_TYPE] },
  BIND_CODE_EXPIRED: { family: "login", status: 400, message: "bind code has expired; log in again to get a new one", answeredBy: [WECHAT_MINI_TYPE] },
  LOGIN_CODE_INVALID: { family: "login", status: 400, message: "login code is unknown or already used" },
  LOGIN_CODE_EXPIRED: { family: "login", status: 400, message: "login code has expired; log in again to get a new one" },
  USER_NOT_FOUND: { family: "login", status: 404, message: "user {userId} does not exist" },
  ALREADY_BOUND: { family: "login", status: 409, message: "user {userId} is already bound to a WeChat identity in mini program {appId}", answeredBy: [WECHAT_MINI_TYPE] },
  WECHAT_ALREADY_BOUND: { family: "login", status: 409, message: "this WeChat identity is already bound to another user in mini program {appId}", answeredBy: [WECHAT_MINI_TYPE] },
  NOT_BOUND: { family: "login", status: 409, message: "user {userId} is not bound in mini program {appId}", answeredBy: [WECHAT_MINI_TYPE] },
  CORP_NOT_MEMBER: { family: "login", status: 403, message: "user is not a member of organisation \"{corpId}\"", input: ["corpId"] },
  REGISTRATION_CLOSED: { family: "login", status: 403, message: "{fullName} does not allow registration", answeredBy: [PASSWORD_TYPE] },
  USERNAME_TAKEN: { family: "login", status: 409, message: "this username is already taken in app {appId}", answeredBy: [PASSWORD_TYPE] },
  PASSWORD_TOO_WEAK: { family: "login", status: 400, message: "the password is not accepted: {reason}", answeredBy: [PASSWORD_TYPE] },
  CREDENTIALS_INVALID: { family: "login", status: 401, message: "username or password is wrong", answeredBy: [PASSWORD_TYPE] },
  LOGIN_LOCKED: { family: "login", status: 429, message: "too many failed logins; retry after {retryAfter} s", answeredBy: [PASSWORD_TYPE] },
  PASSWORD_ALREADY_SET: { family: "login", status: 409, message: "user {userId} already has a password login in {fullName}", answeredBy: [PASSWORD_TYPE] },
  PASSWORD_NOT_SET: { family: "login", status: 409, message: "user {userId} has no password login in {fullName}", answeredBy: [PASSWORD_TYPE] },
  PHONE_TAKEN: { family: "login", status: 409, message: "this phone number is already on another user; log in as that user (accounts are never merged silently)" },
} as const satisfies ErrorTable;

export const LoginError = defineErrorClass("LoginError", "login", LOGIN_ERROR_CODES);
export type LoginErrorCode = keyof typeof LOGIN_ERROR_CODES;
