import { createCipheriv, createHash, randomBytes } from "node:crypto";
import { readFile } from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { runWithCallContext } from "../runtime/context/callContext.ts";
import { describeClientCodeContract, describeLoginContract, type ContractOptions } from "./login.contract.ts";
import { loadApp } from "../runtime/app/loadApp.ts";
import { silentLogger } from "../runtime/logging/logger.ts";
import { loginContractSubject, makeLoginApp, REPO_ROOT, type LoginFixture } from "./helpers/loginFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

// The login contract, run against WeChatMiniType with the fake WeChat server.
const weChatSubject = async (options: ContractOptions) =>
  loginContractSubject(await makeLoginApp({ allowRegister: options.allowRegister, isActive: options.isActive, registerCorpId: "contract-corp" }));
describeLoginContract("WeChatMiniType", weChatSubject);
describeClientCodeContract("WeChatMiniType", weChatSubject);

function encryptOpenData(sessionKey: string, payload: unknown): { encryptedData: string; iv: string } {
  const iv = randomBytes(16);
  const cipher = createCipheriv("aes-128-cbc", Buffer.from(sessionKey, "base64"), iv);
  const data = Buffer.concat([cipher.update(JSON.stringify(payload), "utf8"), cipher.final()]);
  return { encryptedData: data.toString("base64"), iv: iv.toString("base64") };
}

describe("the demo app", () => {
  it("declares auths.loginTypes.myWeChatMiniLogin exactly as the seed does", async () => {
    const seedEJson = {
      type: "auths.loginTypes.WeChatMiniType",
      title: "微信小程序登录",
      allowRegister: 1,
      backendBundleEntry: ".",
      frontBundleEntry: "./myWeChatMiniLogin.json",
    };
    const file = path.join(REPO_ROOT, "apps/demo/elements/auths/loginTypes/myWeChatMiniLogin/e.json");
    expect(JSON.parse(await readFile(file, "utf8"))).toEqual(seedEJson);
    const app = await loadApp({ root: REPO_ROOT, appId: "demo", logger: silentLogger, env: {} });
    try {
      const define = app.getElementDefine("auths.loginTypes.myWeChatMiniLogin");
      expect(define.kind).toBe("instance");
      expect(define.chain.map((l) => l.fullName)).toEqual([
        "auths.loginTypes.myWeChatMiniLogin",
        "auths.loginTypes.WeChatMiniType",
        "auths.loginTypes.Meta",
      ]);
      expect(define.config).toMatchObject({ allowRegister: 1, isActive: true, authConfig: { appId: "wx00000000000demo0", registerCorpId: "demo-corp" } });
      expect(define.functionList.map((f) => [f.name, f.loginRequired])).toEqual([
        ["getLoginCode", 0],
        ["register", 0],
        ["bind", 1],
        ["unbind", 1],
        ["getPhoneNumber", 1],
        ["registerByPhone", 0],
        ["checkSessionKey", 1],
        ["resetSessionKey", 1],
      ]);
      // Server side only: declared, but not served over HTTP.
      expect(define.functionList.filter((f) => f.http === false).map((f) => f.name)).toEqual(["checkSessionKey", "resetSessionKey"]);
    } finally {
      await app.close();
    }
  });
});

describe("WeChat mini program login flow", () => {
  let fx: LoginFixture | undefined;
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  it("walks the seed's flow: bindCode → register → loginCode + corpList → loginByCode → token → logout", async () => {
    fx = await makeLoginApp({ allowRegister: 1, registerCorpId: "acme", registerCorpName: "Acme Ltd" });
    const wechatAuth = fx.login();
    expect(wechatAuth.getLoginConfig()).toEqual({
      fullName: "auths.loginTypes.testMiniLogin",
      title: "test testMiniLogin",
      authType: "WeChatMiniType",
      allowRegister: 1,
      isActive: true,
      appId: fx.instances[0]!.appId,
    });

    const loginResult = await wechatAuth.getLoginCode(fx.mint("o-new-user"));
    expect(loginResult).toEqual({ bindCode: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresIn: 300 });
    if (!("bindCode" in loginResult)) throw new Error("unreachable");

    const newUser = await wechatAuth.register(loginResult.bindCode);
    const userId = newUser.userId.value;
    expect(userId).toBeGreaterThan(0);
    // register answers the new user's first login code: no second wx.login needed.
    expect(JSON.parse(JSON.stringify(newUser))).toEqual({
      userId,
      name: null,
      corpList: [{ corpId: "acme", corpName: "Acme Ltd" }],
      createdAt: fx.clock.now(),
      loginCode: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/),
      expiresIn: 300,
    });

    const session = await fx.authSvc().loginByCode(newUser.loginCode.value);
    expect(session).toEqual({ token: expect.stringMatching(/^[A-Za-z0-9_-]{43}$/), expiresAt: fx.clock.now() + 7 * 86_400_000, userId, corpId: "acme" });
    // Over HTTP the server passes the token through the call context.
    const me = await runWithCallContext({ via: "http", token: session.token }, () => fx!.authSvc().getCurrentUser());
    expect(me).toEqual({ userId, name: null, corpId: "acme", corpList: [{ corpId: "acme", corpName: "Acme Ltd" }] });
    expect(await fx.authSvc().logout(session.token)).toEqual({ success: true });
    await expect(fx.authSvc().getCurrentUser(session.token)).rejects.toMatchObject({ code: "TOKEN_INVALID" });

    // The next login: a fresh wx.login code gives a login code and the user's organisations.
    const result = await wechatAuth.getLoginCode(fx.mint("o-new-user"));
    expect(result).toEqual({ loginCode: expect.any(String), corpList: [{ corpId: "acme", corpName: "Acme Ltd" }], userId, expiresIn: 300 });
    if (!("loginCode" in result)) throw new Error("unreachable");
    expect(await fx.authSvc().loginByCode(result.loginCode)).toMatchObject({ userId, corpId: "acme" });
    expect(fx.fake.stats().jscode2session).toBe(2);
  });

  it("joins identities of two mini programs (different AppIDs) only through unionId", async () => {
    fx = await makeLoginApp({ instances: [{ name: "shopMini", registerCorpId: "shop" }, { name: "blogMini" }] });
    const shop = fx.login("shopMini");
    const blog = fx.login("blogMini");
    const first = await shop.getLoginCode(fx.mint("o-shop", { instance: "shopMini", unionId: "u-42" }));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    const user = await shop.register(first.bindCode);

    // Same unionId in the other mini program: the same user, and a binding is recorded there.
    const viaUnion = await blog.getLoginCode(fx.mint("o-blog", { instance: "blogMini", unionId: "u-42" }));
    expect(viaUnion).toMatchObject({ loginCode: expect.any(String), userId: user.userId.value });
    const store = await storeOf(fx.app);
    expect(await store.findBindingByOpenId(fx.instances[1]!.appId, "o-blog")).toMatchObject({ userId: user.userId.value, unionId: "u-42" });
    // Next time it is found by its own binding, without the unionId.
    expect(await blog.getLoginCode(fx.mint("o-blog", { instance: "blogMini" }))).toMatchObject({ userId: user.userId.value });

    // Same openId text in another AppID, no unionId: a different identity.
    expect(await blog.getLoginCode(fx.mint("o-shop", { instance: "blogMini" }))).toEqual({ bindCode: expect.any(String), expiresIn: 300 });
    // No unionId and no binding: unregistered, even with the same openId text elsewhere.
    await expect(store.findBindingByOpenId(fx.instances[1]!.appId, "o-shop")).resolves.toBeNull();
  });

  it("logs the unionId user in without a second binding when that user is already bound in this AppID", async () => {
    fx = await makeLoginApp({ instances: [{ name: "aMini" }, { name: "bMini" }] });
    const a = fx.login("aMini");
    const b = fx.login("bMini");
    const first = await a.getLoginCode(fx.mint("o-a", { instance: "aMini", unionId: "u-7" }));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    const userId = (await a.register(first.bindCode)).userId.value;
    await b.bind(userId, fx.mint("o-b-1", { instance: "bMini" }));
    const result = await b.getLoginCode(fx.mint("o-b-2", { instance: "bMini", unionId: "u-7" }));
    expect(result).toMatchObject({ userId });
    const store = await storeOf(fx.app);
    expect(await store.findBindingByOpenId(fx.instances[1]!.appId, "o-b-2")).toBeNull();
  });

  it("exchanges one duplicated wx.login code with WeChat once under 50 concurrent calls", async () => {
    fx = await makeLoginApp({ allowRegister: 1 });
    const code = fx.mint("o-dup");
    const login = fx.login();
    const results = await Promise.allSettled(Array.from({ length: 50 }, () => login.getLoginCode(code)));
    expect(fx.fake.stats().jscode2session).toBe(1);
    // One wx.login code, one answer, to one caller; the rest are refused (login-code-reuse.test.ts).
    const answered = results.filter((r) => r.status === "fulfilled");
    expect(answered).toEqual([{ status: "fulfilled", value: { bindCode: expect.any(String), expiresIn: 300 } }]);
    for (const r of results) if (r.status === "rejected") expect(r.reason).toMatchObject({ code: "WECHAT_CODE_USED" });
  });

  it("reports each identity to the front door's rate-limit hook", async () => {
    fx = await makeLoginApp();
    const seen: Array<{ name: string; key: string }> = [];
    await runWithCallContext({ via: "http", limit: (name, key) => void seen.push({ name, key }) }, () => fx!.login().getLoginCode(fx!.mint("o-hook")));
    // ":" between AppID and openId: PostgreSQL text (a shared limit store) refuses NUL.
    expect(seen).toEqual([{ name: "identity", key: `${fx.instances[0]!.appId}:o-hook` }]);
    const refuse = () => {
      throw new Error("refused by hook");
    };
    await expect(runWithCallContext({ via: "http", limit: refuse }, () => fx!.login().getLoginCode(fx!.mint("o-hook")))).rejects.toThrow("refused by hook");
  });

  it("decrypts open data and checks rawData with the newest session key kept in the vault", async () => {
    fx = await makeLoginApp();
    const login = fx.login();
    const appId = fx.instances[0]!.appId;
    const oldKey = randomBytes(16).toString("base64");
    const first = await login.getLoginCode(fx.mint("o-data", { sessionKey: oldKey }));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    const userId = (await login.register(first.bindCode)).userId.value;

    const payload = { openId: "o-data", nickName: "Band", watermark: { appid: appId, timestamp: 1477314187 } };
    const sealedOld = encryptOpenData(oldKey, payload);
    expect(await login.decryptData(userId, sealedOld.encryptedData, sealedOld.iv)).toEqual(payload);

    const rawData = JSON.stringify({ nickName: "Band", gender: 1 });
    const signature = createHash("sha1").update(rawData + oldKey).digest("hex");
    expect(await login.verifyRawData(userId, rawData, signature)).toEqual({ valid: true });
    await expect(login.verifyRawData(userId, rawData + " ", signature)).rejects.toMatchObject({ code: "SIGNATURE_INVALID" });

    const foreign = encryptOpenData(oldKey, { ...payload, watermark: { appid: "wx0000000000000000", timestamp: 1 } });
    await expect(login.decryptData(userId, foreign.encryptedData, foreign.iv)).rejects.toMatchObject({ code: "WATERMARK_MISMATCH" });
    await expect(login.decryptData(userId, sealedOld.encryptedData.replace(/\+/g, " ") + " ", sealedOld.iv)).rejects.toMatchObject({
      code: "ENCRYPTED_DATA_MALFORMED",
    });

    // A new wx.login replaces the key: data sealed with the old key is now stale.
    const newKey = randomBytes(16).toString("base64");
    await login.getLoginCode(fx.mint("o-data", { sessionKey: newKey }));
    await expect(login.decryptData(userId, sealedOld.encryptedData, sealedOld.iv)).rejects.toMatchObject({ code: "SESSION_KEY_STALE" });
    const sealedNew = encryptOpenData(newKey, payload);
    expect(await login.decryptData(userId, sealedNew.encryptedData, sealedNew.iv)).toEqual(payload);

    // Keys are sealed at rest: neither appears in the database files.
    const files = await Promise.all([fx.dbFile, `${fx.dbFile}-wal`].map((f) => readFile(f).catch(() => Buffer.alloc(0))));
    for (const bytes of files) {
      expect(bytes.includes(oldKey)).toBe(false);
      expect(bytes.includes(newKey)).toBe(false);
    }

    // A user without a binding here has no session key.
    const store = await storeOf(fx.app);
    const other = await store.createUser({ name: null }, fx.clock.now());
    await expect(login.decryptData(other.userId, sealedNew.encryptedData, sealedNew.iv)).rejects.toMatchObject({ code: "SESSION_KEY_MISSING" });
    await login.unbind(userId);
    await expect(login.verifyRawData(userId, rawData, signature)).rejects.toMatchObject({ code: "SESSION_KEY_MISSING" });
  });

  it("decrypts WeChat's official sample through the element (known-answer vectors, end to end)", async () => {
    fx = await makeLoginApp({ appId: OFFICIAL.appId });
    const login = fx.login();
    const first = await login.getLoginCode(fx.mint("oGZUI0egBJY1zhBYw2KhdUfwVJJE", { sessionKey: OFFICIAL.sessionKey }));
    if (!("bindCode" in first)) throw new Error("expected a bind code");
    const userId = (await login.register(first.bindCode)).userId.value;
    const data = await login.decryptData(userId, OFFICIAL.encryptedData, OFFICIAL.iv);
    expect(data).toMatchObject({
      openId: "oGZUI0egBJY1zhBYw2KhdUfwVJJE",
      unionId: "ocMvos6NjeKLIBqg5Mr9QjxrP1FA",
      watermark: { timestamp: 1477314187, appid: OFFICIAL.appId },
    });
    // The official rawData sample, signed with its own session key.
    await login.getLoginCode(fx.mint("oGZUI0egBJY1zhBYw2KhdUfwVJJE", { sessionKey: RAW.sessionKey }));
    expect(await login.verifyRawData(userId, RAW.rawData, RAW.signature)).toEqual({ valid: true });
  });
});

// WeChat's official open-data sample (WXBizDataCrypt demo, "开放数据校验与解密").
const OFFICIAL = {
  appId: "wx4f4bc4dec97d474b",
  sessionKey: "tiihtNczf5v6AKRyjwEUhQ==",
  iv: "r7BXXKkLb8qrSNn05n0qiA==",
  encryptedData:
    "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZMQmRzooG2xrDcvSnxIMXFufNstNGTyaGS9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+" +
    "3hVbJSRgv+4lGOETKUQz6OYStslQ142dNCuabNPGBzlooOmB231qMM85d2/fV6ChevvXvQP8Hkue1poOFtnEtpyxVLW1zAo6" +
    "/1Xx1COxFvrc2d7UL/lmHInNlxuacJXwu0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn/Hz7saL8xz+W//FRAUid1OksQaQx4CMs" +
    "8LOddcQhULW4ucetDf96JcR3g0gfRK4PC7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns" +
    "/8wR2SiRS7MNACwTyrGvt9ts8p12PKFdlqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYVoKlaRv85IfVunYzO0IKXsyl7JCUjCpoG" +
    "20f0a04COwfneQAGGwd5oa+T8yO5hzuyDb/XcxxmK01EpqOyuxINew==",
};
const RAW = {
  sessionKey: "HyVFkGl5F5OQWJZZaNzBBg==",
  rawData:
    '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}',
  signature: "75e81ceda165f4ffa64f4068af58c64b8f54b88c",
};
