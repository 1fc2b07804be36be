// The entry a WeChat mini program loads (the package's `miniprogram` folder, built by
// scripts/consoleBuild.ts as CommonJS): the client and its errors, without the wx shim.
export { JitClient, createClient, type ClientOptions, type Session, type Step, type WxLike } from "./client.ts";
export { JitApiError, JitClientError, type ClientErrorCode } from "./errors.ts";
