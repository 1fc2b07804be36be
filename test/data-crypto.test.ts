import { createCipheriv, randomBytes } from "node:crypto";
import { describe, expect, it } from "vitest";
import { decryptUserData, sessionSignature, verifyRawData } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import { vaultError } from "./helpers/thrown.ts";

// Known-answer vector of WeChat's official open-data decryption sample (the WXBizDataCrypt
// demo linked from developers.weixin.qq.com "开放数据校验与解密"; the same values appear in
// EasyWeChat's EncryptorTest and many SDK demos).
const OFFICIAL = {
  appId: "wx4f4bc4dec97d474b",
  sessionKey: "tiihtNczf5v6AKRyjwEUhQ==",
  iv: "r7BXXKkLb8qrSNn05n0qiA==",
  encryptedData:
    "CiyLU1Aw2KjvrjMdj8YKliAjtP4gsMZM" +
    "QmRzooG2xrDcvSnxIMXFufNstNGTyaGS" +
    "9uT5geRa0W4oTOb1WT7fJlAC+oNPdbB+" +
    "3hVbJSRgv+4lGOETKUQz6OYStslQ142d" +
    "NCuabNPGBzlooOmB231qMM85d2/fV6Ch" +
    "evvXvQP8Hkue1poOFtnEtpyxVLW1zAo6" +
    "/1Xx1COxFvrc2d7UL/lmHInNlxuacJXw" +
    "u0fjpXfz/YqYzBIBzD6WUfTIF9GRHpOn" +
    "/Hz7saL8xz+W//FRAUid1OksQaQx4CMs" +
    "8LOddcQhULW4ucetDf96JcR3g0gfRK4P" +
    "C7E/r7Z6xNrXd2UIeorGj5Ef7b1pJAYB" +
    "6Y5anaHqZ9J6nKEBvB4DnNLIVWSgARns" +
    "/8wR2SiRS7MNACwTyrGvt9ts8p12PKFd" +
    "lqYTopNHR1Vf7XjfhQlVsAJdNiKdYmYV" +
    "oKlaRv85IfVunYzO0IKXsyl7JCUjCpoG" +
    "20f0a04COwfneQAGGwd5oa+T8yO5hzuy" +
    "Db/XcxxmK01EpqOyuxINew==",
};

// rawData signature sample of the same official page (signature = sha1(rawData + session_key)).
const RAW = {
  sessionKey: "HyVFkGl5F5OQWJZZaNzBBg==",
  rawData:
    '{"nickName":"Band","gender":1,"language":"zh_CN","city":"Guangzhou","province":"Guangdong","country":"CN","avatarUrl":"http://wx.qlogo.cn/mmopen/vi_32/1vZvI39NWFQ9XM4LtQpFrQJ1xlgZxx3w7bQxKARol6503Iuswjjn6nIGBiaycAjAtpujxyzYsrztuuICqIM5ibXQ/0"}',
  signature: "75e81ceda165f4ffa64f4068af58c64b8f54b88c",
};


function encrypt(key: Buffer, iv: Buffer, plain: Buffer, autoPadding = true): string {
  const cipher = createCipheriv("aes-128-cbc", key, iv);
  cipher.setAutoPadding(autoPadding);
  return Buffer.concat([cipher.update(plain), cipher.final()]).toString("base64");
}

describe("decryptUserData", () => {
  it("decrypts the official 400-byte sample", () => {
    expect(Buffer.from(OFFICIAL.encryptedData, "base64")).toHaveLength(400);
    const data = decryptUserData(OFFICIAL);
    expect(data).toMatchObject({
      openId: "oGZUI0egBJY1zhBYw2KhdUfwVJJE",
      unionId: "ocMvos6NjeKLIBqg5Mr9QjxrP1FA",
      nickName: "Band",
      watermark: { timestamp: 1477314187, appid: "wx4f4bc4dec97d474b" },
    });
  });

  it("rejects data of another mini program: WATERMARK_MISMATCH", () => {
    expect(vaultError(() => decryptUserData({ ...OFFICIAL, appId: "wx-other" })).code).toBe("WATERMARK_MISMATCH");
  });

  it("a '+' turned into a space is named as such", () => {
    const err = vaultError(() => decryptUserData({ ...OFFICIAL, encryptedData: OFFICIAL.encryptedData.replace(/\+/g, " ") }));
    expect(err.code).toBe("ENCRYPTED_DATA_MALFORMED");
    expect(err.message).toBe("encryptedData is malformed: contains a space: a '+' was probably turned into a space by URL/form decoding");
  });

  const malformed: Array<[string, Partial<typeof OFFICIAL>, string]> = [
    ["url-safe alphabet", { encryptedData: OFFICIAL.encryptedData.replace(/\+/g, "-") }, "encryptedData"],
    ["newlines", { encryptedData: OFFICIAL.encryptedData.slice(0, 32) + "\n" + OFFICIAL.encryptedData.slice(32) }, "encryptedData"],
    ["empty ciphertext", { encryptedData: "" }, "encryptedData"],
    ["a ciphertext that is not whole blocks", { encryptedData: Buffer.alloc(20).toString("base64") }, "encryptedData"],
    ["missing padding", { iv: OFFICIAL.iv.replace(/=+$/, "") }, "iv"],
    ["a 12-byte iv", { iv: randomBytes(12).toString("base64") }, "iv"],
    ["a 32-byte session key", { sessionKey: randomBytes(32).toString("base64") }, "sessionKey"],
    ["non-canonical base64", { iv: "r7BXXKkLb8qrSNn05n0qiB==" }, "iv"],
  ];
  for (const [what, change, field] of malformed) {
    it(`${what} → ENCRYPTED_DATA_MALFORMED naming ${field}`, () => {
      const err = vaultError(() => decryptUserData({ ...OFFICIAL, ...change }));
      expect(err.code).toBe("ENCRYPTED_DATA_MALFORMED");
      expect(err.params.field).toBe(field);
      expect(err.message.startsWith(`${field} is malformed: `)).toBe(true);
    });
  }

  it("a wrong (stale) key → SESSION_KEY_STALE, whether the padding or the JSON breaks", () => {
    for (let i = 0; i < 20; i++) {
      const err = vaultError(() => decryptUserData({ ...OFFICIAL, sessionKey: randomBytes(16).toString("base64") }));
      expect(err.code).toBe("SESSION_KEY_STALE");
      expect(err.message).toContain("wx.login again");
    }
  });

  it("strict PKCS#7: valid-looking last byte with wrong padding bytes is stale, good padding decrypts", () => {
    const key = randomBytes(16);
    const iv = randomBytes(16);
    const json = Buffer.from(JSON.stringify({ a: 1, watermark: { appid: "wx-self" } }));
    const sessionKey = key.toString("base64");
    const ivText = iv.toString("base64");
    expect(decryptUserData({ sessionKey, iv: ivText, appId: "wx-self", encryptedData: encrypt(key, iv, json) })).toMatchObject({ a: 1 });
    // Pad by hand with a corrupted pad byte: last byte says 3, but the bytes before are not 3.
    const body = Buffer.concat([json, Buffer.alloc(16 - (json.length % 16), 0)]);
    body[body.length - 1] = 3;
    expect(vaultError(() => decryptUserData({ sessionKey, iv: ivText, appId: "wx-self", encryptedData: encrypt(key, iv, body, false) })).code).toBe("SESSION_KEY_STALE");
    // Correct padding but not JSON.
    expect(vaultError(() => decryptUserData({ sessionKey, iv: ivText, appId: "wx-self", encryptedData: encrypt(key, iv, Buffer.from("not json")) })).code).toBe("SESSION_KEY_STALE");
    // JSON without a watermark.
    expect(vaultError(() => decryptUserData({ sessionKey, iv: ivText, appId: "wx-self", encryptedData: encrypt(key, iv, Buffer.from("{}")) })).code).toBe("WATERMARK_MISMATCH");
  });
});

describe("verifyRawData", () => {
  it("accepts the official rawData sample", () => {
    expect(verifyRawData(RAW)).toBe(true);
    expect(verifyRawData({ ...RAW, signature: RAW.signature.toUpperCase() })).toBe(true);
  });
  it("rejects a changed rawData, a wrong key, and wrong-length signatures", () => {
    expect(verifyRawData({ ...RAW, rawData: RAW.rawData.replace("Band", "Bond") })).toBe(false);
    expect(verifyRawData({ ...RAW, sessionKey: "tiihtNczf5v6AKRyjwEUhQ==" })).toBe(false);
    expect(verifyRawData({ ...RAW, signature: RAW.signature.slice(0, 39) })).toBe(false);
    expect(verifyRawData({ ...RAW, signature: "" })).toBe(false);
  });
});

describe("sessionSignature", () => {
  it("matches the official user-state signature example (HMAC-SHA256 keyed with the key text)", () => {
    // WeChat "用户登录态签名" example: session_key o0q0otL8aEzpcZL/FT9WsQ==, buffer {"foo":"bar"}.
    const hex = sessionSignature("o0q0otL8aEzpcZL/FT9WsQ==", '{"foo":"bar"}');
    expect(hex).toBe("654571f79995b2ce1e149e53c0a33dc39c0a74090db514261454e8dbe432aa0b");
    expect(hex.startsWith("654571f79995b2ce")).toBe(true);
    expect(hex.endsWith("432aa0b")).toBe(true);
  });
  it("signs the empty string by default (checksession)", () => {
    expect(sessionSignature("o0q0otL8aEzpcZL/FT9WsQ==")).toMatch(/^[0-9a-f]{64}$/);
    expect(sessionSignature("o0q0otL8aEzpcZL/FT9WsQ==")).toBe(sessionSignature("o0q0otL8aEzpcZL/FT9WsQ==", ""));
  });
});
