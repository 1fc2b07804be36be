/**
 * `jit-runtime/testing`: tools for tests and demos, not part of any element. The fake WeChat
 * server speaks jscode2session, stable_token, checksession, resetusersessionkey and getuserphonenumber on 127.0.0.1.
 */
export {
  startFakeWeChatServer,
  type FakeWeChatServer,
  type FakeWeChatServerOptions,
  type FakeRule,
  type FakeApp,
  type MintCodeInput,
  type FakeWeChatStats,
  type FakeApiRoute,
  type MintPhoneCodeInput,
} from "./wechat/fakeServer.ts";
export { miniProgramsOf } from "./wechat/fakeApps.ts";
export { ERRMSG } from "./wechat/fakeHttp.ts";
export { loadMiniProgram, type LoadMiniProgramOptions, type LoadedMiniProgram, type MiniProgramPage } from "./miniprogram.ts";
