import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import type { FakeWeChatServer } from "jit-runtime/testing";
import { post, REPO } from "./http.ts";

/**
 * A root with two apps, `shop` and `blog`, each a copy of apps/demo logging in with a mini
 * program of its own (its own WeChat AppID and AppSecret): what one `jit serve` serves side by
 * side in the multi-app tests.
 */
export const MINI = {
  shop: { appId: "wx0000000000shop01", appSecret: "shop-secret-for-the-fake" },
  blog: { appId: "wx0000000000blog01", appSecret: "blog-secret-for-the-fake" },
} as const;

export type TwoAppId = keyof typeof MINI;

export async function makeTwoAppRoot(): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "jit-two-"));
  await fs.writeFile(path.join(root, "package.json"), JSON.stringify({ type: "module", private: true }));
  for (const appId of Object.keys(MINI) as TwoAppId[]) {
    const dir = path.join(root, "apps", appId);
    await fs.cp(path.join(REPO, "apps", "demo"), dir, { recursive: true });
    await fs.writeFile(path.join(dir, "app.json"), JSON.stringify({ appId, title: appId, version: "0.1.0", extends: [] }));
    const config = path.join(dir, "elements/auths/loginTypes/myWeChatMiniLogin/myWeChatMiniLogin.json");
    const business = JSON.parse(await fs.readFile(config, "utf8")) as { authConfig: Record<string, unknown> };
    business.authConfig.appId = MINI[appId].appId;
    business.authConfig.appSecret = MINI[appId].appSecret;
    await fs.writeFile(config, JSON.stringify(business, null, 2));
  }
  return root;
}

/** Registers `openId` of the app's mini program and logs in: the session token and userId. */
export async function registerAndLogin(base: string, fake: FakeWeChatServer, appId: TwoAppId, openId: string): Promise<{ token: string; userId: number }> {
  const login = `/api/${appId}/auths/loginTypes/myWeChatMiniLogin`;
  const issued = await post(base, `${login}/getLoginCode`, { code: fake.mintCode({ appId: MINI[appId].appId, openId }) });
  if (issued.status !== 200) throw new Error(`getLoginCode at ${appId}: ${issued.text}`);
  const registered = await post(base, `${login}/register`, { bindCode: issued.body.data.bindCode });
  if (registered.status !== 200) throw new Error(`register at ${appId}: ${registered.text}`);
  const session = await post(base, `/api/${appId}/auths/loginTypes/services/AuthSvc/loginByCode`, { loginCode: registered.body.data.loginCode });
  if (session.status !== 200) throw new Error(`loginByCode at ${appId}: ${session.text}`);
  return { token: session.body.data.token as string, userId: session.body.data.userId as number };
}

/** The user behind `token` at the app, or the error code. */
export async function whoAmI(base: string, appId: TwoAppId, token: string): Promise<{ userId?: number; code?: string }> {
  const me = await post(base, `/api/${appId}/auths/loginTypes/services/AuthSvc/getCurrentUser`, undefined, { token });
  return me.status === 200 ? { userId: me.body.data.userId as number } : { code: me.body?.error?.code as string };
}
