import type { WeChatErrorCode as ErrorCode } from "./errors.ts";

/** WeChat errcodes of jscode2session and the stable code each maps to. */
const ERRCODE_TO_CODE: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [40029, "WECHAT_CODE_INVALID"],
  [40163, "WECHAT_CODE_USED"],
  [45011, "WECHAT_RATE_LIMITED"],
  [40226, "WECHAT_USER_BLOCKED"],
  [-1, "WECHAT_BUSY"],
  [40013, "WECHAT_BAD_CREDENTIALS"],
  [40125, "WECHAT_BAD_CREDENTIALS"],
  [41002, "WECHAT_BAD_CREDENTIALS"],
  [41004, "WECHAT_BAD_CREDENTIALS"],
]);

export function codeForErrcode(errcode: number): ErrorCode {
  return ERRCODE_TO_CODE.get(errcode) ?? "WECHAT_ERROR";
}

/** errcodes meaning "this access token is not (or no longer) valid": refresh and retry once. */
export const TOKEN_ERRCODES: ReadonlySet<number> = new Set([40001, 40014, 42001]);

const BUSINESS: ReadonlyMap<number, ErrorCode> = new Map<number, ErrorCode>([
  [-1, "WECHAT_BUSY"],
  [45009, "WECHAT_RATE_LIMITED"], // api daily quota
  [45011, "WECHAT_RATE_LIMITED"],
  [40013, "WECHAT_BAD_CREDENTIALS"],
  [40125, "WECHAT_BAD_CREDENTIALS"],
  [41002, "WECHAT_BAD_CREDENTIALS"],
  [41004, "WECHAT_BAD_CREDENTIALS"],
  ...[...TOKEN_ERRCODES].map((e) => [e, "WECHAT_TOKEN_REJECTED"] as const),
]);

/** The errcode map of the calls that need an access token (and of stable_token), plus the call's own errcodes. */
export function businessErrcodes(own: Readonly<Record<number, ErrorCode>> = {}): (errcode: number) => ErrorCode {
  return (errcode) => own[errcode] ?? BUSINESS.get(errcode) ?? "WECHAT_ERROR";
}

/**
 * WeChat has sent `errcode` as a string ("40029") as well as a number: both mean the same.
 * Returns undefined for absent/null, NaN for anything that is not an integer.
 */
export function normaliseErrcode(value: unknown): number | undefined {
  if (value === undefined || value === null) return undefined;
  if (typeof value === "number") return Number.isInteger(value) ? value : Number.NaN;
  if (typeof value === "string" && /^\s*-?\d{1,10}\s*$/.test(value)) return Number(value.trim());
  return Number.NaN;
}

/** The trace id WeChat support asks for: errmsg looks like "invalid code, rid: 65f1a2b3-1c2d3e4f-5a6b7c8d". */
export function parseRid(errmsg: unknown): string | undefined {
  if (typeof errmsg !== "string") return undefined;
  return /rid:\s*([0-9A-Za-z-]{1,64})/.exec(errmsg)?.[1];
}
