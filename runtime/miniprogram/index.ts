export { JitClient, createClient, type ClientOptions, type Session, type Step, type WxLike } from "./client.ts";
export { JitApiError, JitClientError, type ClientErrorCode } from "./errors.ts";
export { createWxShim, type WxShimOptions } from "./wxShim.ts";
export type { ErrorCode } from "../errors/codes.ts";
