import { readFileSync } from "node:fs";
import { fileURLToPath } from "node:url";

/**
 * The WeChat mini-program project `jit init --miniprogram` writes beside the app: open the
 * `miniprogram/` folder in WeChat DevTools. One page logs in with the package's client
 * library (copied in as lib/jit-client.js, the CommonJS build package.json's `miniprogram`
 * field names, so no "build npm" step is needed) and asks the server who is logged in.
 */

export interface MiniProgramPlan {
  /** jit app id (the `<appId>` of /api/<appId>/...). */
  appId: string;
  /** WeChat AppID of the login instance. */
  miniAppId: string;
  loginFullName: string;
  /** Where `jit serve` answers. */
  apiBase: string;
}

export const MINIPROGRAM_DIR = "miniprogram";

// The client bundle sits at runtime/miniprogram/dist/ beside both the sources and the
// compiled modules, two folders above this one in either case.
const CLIENT_BUNDLE = new URL("../../runtime/miniprogram/dist/index.js", import.meta.url);

export function clientBundle(): string {
  try {
    return readFileSync(CLIENT_BUNDLE, "utf8");
  } catch (err) {
    throw new Error(`the mini-program client build is missing (${fileURLToPath(CLIENT_BUNDLE)}): run npm run build (${(err as Error).message})`, { cause: err });
  }
}

const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;

export function miniProgramFiles(plan: MiniProgramPlan): Array<{ rel: string; content: string }> {
  const dir = MINIPROGRAM_DIR;
  return [
    {
      rel: `${dir}/project.config.json`,
      content: json({
        appid: plan.miniAppId,
        projectname: plan.appId,
        compileType: "miniprogram",
        miniprogramRoot: "./",
        // urlCheck off: DevTools may then call a jit serve on http://127.0.0.1; a published
        // mini program needs an https domain listed in the WeChat admin console.
        setting: { urlCheck: false, es6: true, enhance: true, minified: true },
      }),
    },
    { rel: `${dir}/app.json`, content: json({ pages: ["pages/index/index"], window: { navigationBarTitleText: plan.appId } }) },
    {
      rel: `${dir}/config.js`,
      content: `// Where jit serve answers, and which login element of which app the client uses.
module.exports = {
  baseUrl: ${JSON.stringify(plan.apiBase)},
  appId: ${JSON.stringify(plan.appId)},
  loginElement: ${JSON.stringify(plan.loginFullName)},
};
`,
    },
    {
      rel: `${dir}/app.js`,
      content: `const { createClient } = require("./lib/jit-client.js");
const config = require("./config.js");

App({
  // One client for every page: it keeps the session with wx.setStorageSync and logs in
  // again by itself when the server has ended it.
  jit: createClient(config),
});
`,
    },
    {
      rel: `${dir}/pages/index/index.js`,
      content: `const AUTH_SERVICE = "auths.loginTypes.services.AuthSvc";

/** @param {any} err a JitApiError or JitClientError of the client library (its code and message), or anything else */
function describe(err) {
  return err && err.code ? err.code + ": " + err.message : String(err);
}

Page({
  data: { status: "Not logged in", me: "", error: "" },

  // wx.login, then getLoginCode, register (a new WeChat user) and loginByCode on the server.
  async login() {
    try {
      const session = await getApp().jit.login();
      this.setData({ status: "Logged in as user " + session.userId, error: "" });
    } catch (err) {
      this.setData({ error: describe(err) });
    }
  },

  async whoAmI() {
    try {
      const me = await getApp().jit.call(AUTH_SERVICE, "getCurrentUser");
      this.setData({ me: "user " + me.userId + (me.corpId ? " in " + me.corpId : ""), error: "" });
    } catch (err) {
      this.setData({ error: describe(err) });
    }
  },
});
`,
    },
    {
      rel: `${dir}/pages/index/index.wxml`,
      content: `<view class="page">
  <button type="primary" bindtap="login">Log in with WeChat</button>
  <button bindtap="whoAmI">Who am I</button>
  <text class="line">{{status}}</text>
  <text class="line" wx:if="{{me}}">{{me}}</text>
  <text class="line error" wx:if="{{error}}">{{error}}</text>
</view>
`,
    },
    { rel: `${dir}/pages/index/index.wxss`, content: `.page { padding: 32rpx; }\n.line { display: block; margin-top: 24rpx; }\n.error { color: #c00; }\n` },
    { rel: `${dir}/pages/index/index.json`, content: json({ navigationBarTitleText: "Log in" }) },
    { rel: `${dir}/lib/jit-client.js`, content: clientBundle() },
    {
      // For editors and tsc (checkJs with miniprogram-api-typings): the copy's types are the
      // installed package's, which a mini program inside the project folder resolves.
      rel: `${dir}/lib/jit-client.d.ts`,
      content: `export { JitClient, createClient, JitApiError, JitClientError } from "jit-runtime/miniprogram";
export type { ClientOptions, ClientErrorCode, ErrorCode, Session, Step, WxLike } from "jit-runtime/miniprogram";
`,
    },
  ];
}
