import type { AppContext } from "jit-runtime/element";
import type { FakeApp } from "./fakeServer.ts";

const WECHAT_MINI_TYPE = "auths.loginTypes.WeChatMiniType";

/**
 * The AppID/AppSecret of every WeChatMiniType instance the app sees: what a fake WeChat
 * server must accept to serve that app (the demo and `jit wechat-fake`). Kept apart from
 * the fake server itself so callers can import it without loading the WeChat client.
 */
export function miniProgramsOf(app: Pick<AppContext, "findElements">): FakeApp[] {
  const found: FakeApp[] = [];
  for (const define of app.findElements({ type: WECHAT_MINI_TYPE })) {
    const auth = define.config.authConfig as { appId?: unknown; appSecret?: unknown } | undefined;
    if (typeof auth?.appId === "string" && typeof auth.appSecret === "string") found.push({ appId: auth.appId, appSecret: auth.appSecret });
  }
  return found;
}
