import { rm } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadApp } from "../runtime/app/loadApp.ts";
import { silentLogger } from "../runtime/logging/logger.ts";
import { JitError } from "../runtime/errors/index.ts";
import { makeLoginApp, makeTempRoot, type LoginFixture } from "./helpers/loginFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/** The error a call fails with, with its serialised form (what a client would see). */
async function failure(promise: Promise<unknown>): Promise<{ code: string; json: string; err: JitError }> {
  try {
    await promise;
  } catch (err) {
    if (!(err instanceof JitError)) throw err;
    return { code: err.code, json: JSON.stringify({ error: err }) + err.message, err };
  }
  throw new Error("expected the call to fail");
}

describe("login error codes", () => {
  let fx: LoginFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  it("raises every login-flow code from the call that causes it", async () => {
    fx = await makeLoginApp({ allowRegister: 1, registerCorpId: "corp-1" });
    const login = fx.login();
    const auth = fx.authSvc();
    const store = await storeOf(fx.app);
    const expectCode = async (p: Promise<unknown>, code: string) => expect((await failure(p)).code).toBe(code);

    await expectCode(login.getLoginCode(""), "ARGUMENT_INVALID");
    await expectCode(auth.loginByCode(""), "ARGUMENT_INVALID");
    await expectCode(auth.loginByCode("x", 5 as unknown as string), "ARGUMENT_INVALID");
    await expectCode(login.register("no-such-bind-code"), "BIND_CODE_INVALID");
    const bind = await login.getLoginCode(fx.mint("o-1"));
    if (!("bindCode" in bind)) throw new Error("expected a bind code");
    fx.clock.advance(300_000);
    await expectCode(login.register(bind.bindCode), "BIND_CODE_EXPIRED");

    await expectCode(auth.loginByCode("no-such-login-code"), "LOGIN_CODE_INVALID");
    const again = await login.getLoginCode(fx.mint("o-1"));
    if (!("bindCode" in again)) throw new Error("expected a bind code");
    const user = await login.register(again.bindCode);
    const lc = await login.getLoginCode(fx.mint("o-1"));
    if (!("loginCode" in lc)) throw new Error("expected a login code");
    fx.clock.advance(300_001);
    await expectCode(auth.loginByCode(lc.loginCode), "LOGIN_CODE_EXPIRED");
    const lc2 = await login.getLoginCode(fx.mint("o-1"));
    if (!("loginCode" in lc2)) throw new Error("expected a login code");
    await expectCode(auth.loginByCode(lc2.loginCode, "corp-elsewhere"), "CORP_NOT_MEMBER");

    await expectCode(login.bind(4242, fx.mint("o-2")), "USER_NOT_FOUND");
    await expectCode(login.bind(user.userId.value, fx.mint("o-2")), "ALREADY_BOUND");
    const other = await store.createUser({ name: "other" }, fx.clock.now());
    await expectCode(login.bind(other.userId, fx.mint("o-1")), "WECHAT_ALREADY_BOUND");
    await expectCode(login.unbind(other.userId), "NOT_BOUND");
    await expectCode(auth.getCurrentUser("not-a-token"), "TOKEN_INVALID");
    await expectCode(auth.logout("not-a-token"), "TOKEN_INVALID");
    await expectCode(auth.getCurrentUser(), "LOGIN_REQUIRED");
    await expectCode(login.decryptData(other.userId, "AAAAAAAAAAAAAAAAAAAAAA==", "AAAAAAAAAAAAAAAAAAAAAA=="), "SESSION_KEY_MISSING");
  });

  it("says USER_AUTH_MISS and LOGIN_TYPE_INACTIVE with the element's name", async () => {
    fx = await makeLoginApp({ instances: [{ name: "closedMini", allowRegister: 0 }, { name: "offMini", isActive: false }] });
    const miss = await failure(fx.login("closedMini").getLoginCode(fx.mint("o-x", { instance: "closedMini" })));
    expect(miss.code).toBe("USER_AUTH_MISS");
    expect(miss.err.message).toContain("auths.loginTypes.closedMini");
    expect(miss.err.status).toBe(403);
    const off = await failure(fx.login("offMini").getLoginCode(fx.mint("o-x", { instance: "offMini" })));
    expect(off.code).toBe("LOGIN_TYPE_INACTIVE");
    expect(off.err.message).toContain("auths.loginTypes.offMini");
    // Inactive: refused before WeChat is asked, so the user's code is not spent.
    expect(fx.fake.stats().jscode2session).toBe(1);
    await expect(fx.login("offMini").bind(1, "c")).rejects.toMatchObject({ code: "LOGIN_TYPE_INACTIVE" });
  });

  it("maps every WeChat failure to its typed code, keeping errcode and rid but never the secret or the code", async () => {
    fx = await makeLoginApp();
    const login = fx.login();
    const secret = fx.instances[0]!.appSecret;
    const cases: Array<[string, () => void, number | undefined]> = [
      ["WECHAT_CODE_INVALID", () => {}, 40029],
      ["WECHAT_RATE_LIMITED", () => fx!.fake.script({ errcode: 45011 }), 45011],
      ["WECHAT_USER_BLOCKED", () => fx!.fake.script({ errcode: 40226 }), 40226],
      ["WECHAT_BUSY", () => fx!.fake.script({ errcode: "-1" }), -1],
      ["WECHAT_ERROR", () => fx!.fake.script({ errcode: 48001 }), 48001],
      ["WECHAT_UNAVAILABLE", () => fx!.fake.script({ drop: true }), undefined],
      ["WECHAT_UNAVAILABLE", () => fx!.fake.script({ status: 502, rawBody: "<html>bad gateway</html>", contentType: "text/html" }), undefined],
    ];
    for (const [code, arrange, errcode] of cases) {
      arrange();
      const jsCode = `never-minted-${code}-${Math.random()}`;
      const f = await failure(login.getLoginCode(jsCode));
      expect(f.code, code).toBe(code);
      if (errcode !== undefined) expect(f.err.toJSON(), code).toMatchObject({ errcode });
      if (errcode !== undefined) expect(f.err.toJSON(), code).toHaveProperty("rid");
      expect(f.json).not.toContain(secret);
      expect(f.json).not.toContain(jsCode);
    }

    // A code already spent elsewhere: WeChat answers 40163.
    const spent = fx.mint("o-spent");
    const direct = new URL("/sns/jscode2session", fx.fake.url);
    direct.search = new URLSearchParams({ appid: fx.instances[0]!.appId, secret, js_code: spent, grant_type: "authorization_code" }).toString();
    await (await fetch(direct)).text();
    expect((await failure(login.getLoginCode(spent))).code).toBe("WECHAT_CODE_USED");

    // The mini program's secret was rotated on WeChat's side.
    fx.fake.addApp(fx.instances[0]!.appId, "rotated-secret");
    const bad = await failure(login.getLoginCode(fx.mint("o-y")));
    expect(bad.code).toBe("WECHAT_BAD_CREDENTIALS");
    expect(bad.json).not.toContain(secret);
  });

  it("raises FUNCTION_NOT_FOUND for a login Type that does not implement a method", async () => {
    const root = await makeTempRoot({
      "apps/bare/app.json": { appId: "bare", title: "bare", version: "0.0.0", extends: [] },
      "apps/bare/elements/auths/loginTypes/BareType/e.json": { title: "bare type", type: "auths.loginTypes.Meta" },
      "apps/bare/elements/auths/loginTypes/bareLogin/e.json": { title: "bare login", type: "auths.loginTypes.BareType" },
    });
    try {
      const app = await loadApp({ root, appId: "bare", logger: silentLogger, env: {} });
      const bare = app.getElement<{ getLoginCode(c: string): Promise<unknown>; authType: string; allowRegister: number }>("auths.loginTypes.bareLogin");
      expect(bare.authType).toBe("BareType");
      expect(bare.allowRegister).toBe(0);
      await expect(bare.getLoginCode("c")).rejects.toMatchObject({ code: "FUNCTION_NOT_FOUND" });
      await app.close();
    } finally {
      await rm(root, { recursive: true, force: true });
    }
  });
});

describe("WeChatMiniType configuration errors", () => {
  async function loadWith(business: unknown, eJson: Record<string, unknown> = {}): Promise<JitError> {
    const dir = "apps/cfg/elements/auths/loginTypes/myWeChatMiniLogin";
    const root = await makeTempRoot({
      "apps/cfg/app.json": { appId: "cfg", title: "cfg", version: "0.0.0", extends: [] },
      [`${dir}/e.json`]: {
        type: "auths.loginTypes.WeChatMiniType",
        title: "微信小程序登录",
        allowRegister: 1,
        backendBundleEntry: ".",
        frontBundleEntry: "./myWeChatMiniLogin.json",
        ...eJson,
      },
      [`${dir}/myWeChatMiniLogin.json`]: business,
    });
    try {
      await loadApp({ root, appId: "cfg", logger: silentLogger, env: {} });
    } catch (err) {
      if (err instanceof JitError) return err;
      throw err;
    } finally {
      await rm(root, { recursive: true, force: true });
    }
    throw new Error("expected the app to be refused");
  }

  it("refuses the seed's placeholder AppID and names the file and pointer", async () => {
    const err = await loadWith({ authConfig: { appId: "your_mini_program_app_id", appSecret: "your_mini_program_app_secret" } });
    expect(err.code).toBe("DECLARATION_INVALID");
    expect(err.problems).toEqual([
      expect.objectContaining({ code: "SCHEMA_INVALID", pointer: "/authConfig/appId", file: expect.stringContaining(path.join("myWeChatMiniLogin", "myWeChatMiniLogin.json")) }),
    ]);
    expect(JSON.stringify(err)).not.toContain("your_mini_program_app_secret");
  });

  it("lists every problem at once: missing appSecret, bad allowRegister, wrong isActive type", async () => {
    const err = await loadWith({ authConfig: { appId: "wx0123456789abcdef" }, isActive: "yes" }, { allowRegister: 2 });
    const pointers = err.problems.map((p) => p.pointer).sort();
    expect(pointers).toEqual(["/allowRegister", "/authConfig/appSecret", "/isActive"]);
    expect(err.problems.every((p) => p.code === "SCHEMA_INVALID")).toBe(true);
  });

  it("never echoes a secret that fails validation", async () => {
    const err = await loadWith({ authConfig: { appId: "wx0123456789abcdef", appSecret: 12345678901 } });
    expect(err.problems.map((p) => p.pointer)).toEqual(["/authConfig/appSecret"]);
    expect(JSON.stringify(err) + err.message).not.toContain("12345678901");
  });
});
