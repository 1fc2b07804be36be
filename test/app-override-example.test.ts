import { randomBytes } from "node:crypto";
import { mkdtemp, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { WeChatMiniLogin } from "../elements/auths/loginTypes/WeChatMiniType/index.ts";
import type { AuthService } from "../elements/auths/loginTypes/services/AuthSvc/index.ts";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { loadApp } from "../runtime/app/loadApp.ts";
import type { App } from "../runtime/app/App.ts";
import { silentLogger } from "../runtime/logging/logger.ts";
import { REPO_ROOT } from "./helpers/loginFixture.ts";

/**
 * The worked example of docs/elements.md: apps/acme extends demo and overrides the platform Type
 * auths.loginTypes.WeChatMiniType (code + a config default), without touching elements/.
 */
describe("apps/acme: an app overriding a platform Type", () => {
  const LOGIN = "auths.loginTypes.myWeChatMiniLogin";
  let fake: FakeWeChatServer;
  let dir: string;
  const apps: App[] = [];

  async function open(appId: string): Promise<App> {
    const app = await loadApp({
      root: REPO_ROOT,
      appId,
      dbFile: path.join(dir, `${appId}.sqlite`),
      logger: silentLogger,
      env: { JIT_MASTER_KEY: randomBytes(32).toString("hex"), WECHAT_API_BASE: fake.url },
    });
    apps.push(app);
    return app;
  }

  beforeAll(async () => {
    dir = await mkdtemp(path.join(os.tmpdir(), "jit-acme-"));
    fake = await startFakeWeChatServer();
    const demo = await open("demo");
    const { appId, appSecret } = demo.getElementDefine(LOGIN).config.authConfig as { appId: string; appSecret: string };
    fake.addApp(appId, appSecret);
  });

  afterAll(async () => {
    for (const app of apps) await app.close();
    await fake?.close();
    await rm(dir, { recursive: true, force: true });
  });

  it("resolves the Type from the app layer and shows the platform definition it shadows", async () => {
    const acme = await open("acme");
    const type = acme.getElementDefine("auths.loginTypes.WeChatMiniType");
    expect(type.layer).toBe("acme");
    expect(type.shadows.map((s) => s.layer)).toEqual(["platform"]);
    // The inherited instance (declared by demo) picks up the override and its config default.
    const instance = acme.getElementDefine(LOGIN);
    expect(instance.layer).toBe("demo");
    expect(instance.config).toMatchObject({ autoRegister: true, allowRegister: 1 });
    // functionList is inherited from the overridden platform Type.
    expect(instance.functionList.map((f) => f.name)).toEqual(["getLoginCode", "register", "bind", "unbind", "getPhoneNumber", "registerByPhone", "checkSessionKey", "resetSessionKey"]);
  });

  it("registers a new WeChat user in one step in acme, while demo still answers a bind code", async () => {
    const acme = await open("acme");
    const login = acme.getElement<WeChatMiniLogin>(LOGIN);
    const appId = login.appId;
    const code = fake.mintCode({ appId, openId: "o-acme-new" });
    const result = await login.getLoginCode(code);
    expect(result).toEqual({ loginCode: expect.any(String), corpList: [{ corpId: "demo-corp", corpName: "Demo Corp" }], userId: expect.any(Number), expiresIn: 300 });
    expect(fake.stats().jscode2session).toBe(1);
    // The login code is register's, for the new user; the code itself answers once.
    if (!("loginCode" in result)) throw new Error("expected a login code");
    const session = await acme.getElement<AuthService>("auths.loginTypes.services.AuthSvc").loginByCode(result.loginCode);
    expect(session.userId).toBe(result.userId);
    await expect(login.getLoginCode(code)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });

    const demo = await open("demo");
    const plain = await demo.getElement<WeChatMiniLogin>(LOGIN).getLoginCode(fake.mintCode({ appId, openId: "o-demo-new" }));
    expect(plain).toEqual({ bindCode: expect.any(String), expiresIn: 300 });
  });
});
