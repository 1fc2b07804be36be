import { defineFamily } from "jit-runtime/element";
import { VAULT_ERROR_CODES } from "../WeChatMiniType/vault/errors.ts";
import { WECHAT_ERROR_CODES } from "../WeChatMiniType/wechat/errors.ts";
import { loginConsole } from "./console/api.ts";
import { LOGIN_ERROR_CODES } from "./errors.ts";
import { lookupSession } from "./session.ts";

/**
 * What the login family brings to the runtime (ARCHITECTURE.md, "What a family brings"):
 * its error codes, the values it holds secret, the session lookup behind every function that
 * needs a login, the per-identity limit its login Types apply, and its console tabs (users,
 * the simulated mini program).
 */
export default defineFamily({
  errors: { ...LOGIN_ERROR_CODES, ...WECHAT_ERROR_CODES, ...VAULT_ERROR_CODES },
  secrets: {
    fields: ["appSecret", "session_key", "sessionKey", "access_token", "js_code", "jsCode", "bindCode", "loginCode", "password", "oldPassword", "newPassword", "passwordHash"],
    // A login's `code` argument (the wx.login code); a bare `code` field is an error code.
    args: ["code", "bindCode", "loginCode", "password", "oldPassword", "newPassword"],
    paths: ["authConfig.appSecret", "*.authConfig.appSecret"],
  },
  sessionLookup: lookupSession,
  console: loginConsole,
  limits: {
    identity: {
      env: "JIT_RATE_LIMIT_OPENID",
      default: "20/minute",
      description: "one WeChat identity (AppID + openId), counted once WeChat has named it and before anything is stored",
    },
  },
});
