import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_APPID, LOGIN, startStack, type Stack } from "./helpers/http.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/**
 * getPhoneNumber and registerByPhone over HTTP, against the fake WeChat server: the number
 * lands on the logged-in user, another mini program's answer is refused, a phone code is sent
 * once, a number is never on two users.
 */
describe("phone number over HTTP", () => {
  let stack: Stack;
  const phoneCode = (purePhoneNumber: string, extra: { countryCode?: string; countryCodeAsNumber?: boolean; watermarkAppId?: string } = {}) =>
    stack.fake.mintPhoneCode({ appId: DEMO_APPID, purePhoneNumber, ...extra });

  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack.close();
  });

  it("stores the number on the logged-in user and answers with countryCode as a string", async () => {
    await stack.register("o-phone-1");
    const { token, userId } = await stack.login("o-phone-1");
    const reply = await stack.call(`${LOGIN}/getPhoneNumber`, { code: phoneCode("13800138000", { countryCodeAsNumber: true }) }, { token });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.data).toEqual({ phoneNumber: "13800138000", purePhoneNumber: "13800138000", countryCode: "86" });
    const user = await (await storeOf(stack.app)).getUser(userId);
    expect(user?.phone).toBe("+8613800138000");
  });

  it("needs a logged-in user, and acts on that user only", async () => {
    const anonymous = await stack.call(`${LOGIN}/getPhoneNumber`, { code: phoneCode("13800138001") });
    expect(anonymous.status).toBe(401);
    await stack.register("o-phone-2");
    const { token, userId } = await stack.login("o-phone-2");
    const other = await stack.call(`${LOGIN}/getPhoneNumber`, { code: phoneCode("13800138001"), userId: userId + 1000 }, { token });
    expect(other.status).toBe(403);
    expect(other.body.error.code).toBe("FORBIDDEN");
  });

  it("refuses an answer whose watermark names another mini program, and stores nothing", async () => {
    await stack.register("o-phone-3");
    const { token, userId } = await stack.login("o-phone-3");
    const reply = await stack.call(`${LOGIN}/getPhoneNumber`, { code: phoneCode("13800138003", { watermarkAppId: "wx-someone-else" }) }, { token });
    expect(reply.status).toBe(502);
    expect(reply.body.error.code).toBe("WECHAT_PHONE_FOREIGN");
    expect((await (await storeOf(stack.app)).getUser(userId))?.phone).toBeUndefined();
  });

  it("sends a phone code to WeChat once: a repeat, concurrent or later, is refused without a request", async () => {
    await stack.register("o-phone-4");
    const { token } = await stack.login("o-phone-4");
    const code = phoneCode("13800138004");
    const before = stack.fake.stats().getuserphonenumber;
    const [a, b] = await Promise.all([
      stack.call(`${LOGIN}/getPhoneNumber`, { code }, { token }),
      stack.call(`${LOGIN}/getPhoneNumber`, { code }, { token }),
    ]);
    const later = await stack.call(`${LOGIN}/getPhoneNumber`, { code }, { token });
    expect([a.status, b.status].sort()).toEqual([200, 400]);
    expect(later.status).toBe(400);
    expect(later.body.error.code).toBe("WECHAT_PHONE_CODE_INVALID");
    expect(stack.fake.stats().getuserphonenumber - before).toBe(1);
  });

  it("maps WeChat's refusal of an unknown code to WECHAT_PHONE_CODE_INVALID", async () => {
    await stack.register("o-phone-5");
    const { token } = await stack.login("o-phone-5");
    const reply = await stack.call(`${LOGIN}/getPhoneNumber`, { code: "not-a-phone-code" }, { token });
    expect(reply.status).toBe(400);
    expect(reply.body.error.code).toBe("WECHAT_PHONE_CODE_INVALID");
    expect(reply.body.error.message).toContain("errcode 40029");
  });

  it("a number already on another user is PHONE_TAKEN (409), never moved", async () => {
    await stack.register("o-phone-6");
    const { token, userId } = await stack.login("o-phone-6");
    const reply = await stack.call(`${LOGIN}/getPhoneNumber`, { code: phoneCode("13800138000") }, { token });
    expect(reply.status).toBe(409);
    expect(reply.body.error.code).toBe("PHONE_TAKEN");
    const store = await storeOf(stack.app);
    expect((await store.getUser(userId))?.phone).toBeUndefined();
    expect(await store.findUserIdByPhone("+8613800138000")).not.toBe(userId);
  });

  it("registerByPhone creates the user, its binding and its phone in one go", async () => {
    const first = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("o-phone-new") });
    const bindCode = first.body.data.bindCode as string;
    const reply = await stack.call(`${LOGIN}/registerByPhone`, { bindCode, phoneCode: phoneCode("5551234", { countryCode: "1" }) });
    expect(reply.status, reply.text).toBe(200);
    expect(reply.body.data).toMatchObject({ phone: "+15551234", loginCode: expect.any(String) });
    const store = await storeOf(stack.app);
    const userId = reply.body.data.userId as number;
    expect((await store.getUser(userId))?.phone).toBe("+15551234");
    expect((await store.findBindingByUser(DEMO_APPID, userId))?.openId).toBe("o-phone-new");
  });

  it("registerByPhone with a number another user holds is PHONE_TAKEN and creates nobody; the bind code stays usable", async () => {
    const first = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("o-phone-dup") });
    const bindCode = first.body.data.bindCode as string;
    const taken = await stack.call(`${LOGIN}/registerByPhone`, { bindCode, phoneCode: phoneCode("13800138000") });
    expect(taken.status).toBe(409);
    expect(taken.body.error.code).toBe("PHONE_TAKEN");
    expect(await (await storeOf(stack.app)).findBindingByOpenId(DEMO_APPID, "o-phone-dup")).toBeNull();
    const plain = await stack.call(`${LOGIN}/register`, { bindCode });
    expect(plain.status, plain.text).toBe(200);
  });

  it("does not serve checkSessionKey or resetSessionKey over HTTP", async () => {
    await stack.register("o-phone-7");
    const { token, userId } = await stack.login("o-phone-7");
    for (const fn of ["checkSessionKey", "resetSessionKey"]) {
      const reply = await stack.call(`${LOGIN}/${fn}`, { userId }, { token });
      expect(reply.status, fn).toBe(404);
      expect(reply.body.error.code).toBe("FUNCTION_NOT_FOUND");
    }
  });
});
