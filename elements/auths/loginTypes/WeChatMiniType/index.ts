import { rowData, type RowData, currentCallContext, ElementError, isJitError, hashToken } from "jit-runtime/element";
import type { LoginType } from "../Meta/index.ts";
import { corpListOf } from "../Meta/corpList.ts";
import { CODE_TTL_SECONDS, type BindResult, type GetLoginCodeResult, type RegisteredUser, type UnbindResult } from "../Meta/types.ts";
import { requirePayload, requireText, requireUserId } from "../Meta/args.ts";
import { registerCorpOf, requireActive } from "../Meta/guards.ts";
import { newLoginCode, type Queued } from "../Meta/loginCodes.ts";
import { WeChatGateway, type WeChatIdentity } from "./gateway.ts";
import { queueBindCode, queueLoginCodeFor, resolveUser } from "./loginFlow.ts";
import { Unwritten } from "./codeLedger.ts";
import { decryptForUser, verifyForUser } from "./userData.ts";
import { phoneNumberFor, storedPhone, type PhoneNumberResult } from "./phone.ts";
import { checkSessionKeyOf, resetSessionKeyOf } from "./sessionKeyCheck.ts";
import type { WeChatMiniAuthConfig } from "./types.ts";
import { LoginError } from "../Meta/errors.ts";
import { storeOf } from "../../storage/storeOf.ts";

export type { WeChatMiniLogin, WeChatMiniAuthConfig } from "./types.ts";
export type { GetLoginCodeResult } from "../Meta/types.ts";
export type { PhoneNumberResult } from "./phone.ts";

/** auths.loginTypes.WeChatMiniType: WeChat Mini Program login (see the seed document). */
export default (Parent: typeof LoginType) =>
  class WeChatMiniType extends Parent {
    // #private, so a subclass cannot clash with it (ARCHITECTURE.md, "Element folders").
    #gatewayInstance: WeChatGateway | undefined;

    get appId(): string {
      return this.#authConfig().appId;
    }

    /** wx.login code → `{ loginCode, corpList, userId }` (registered) or `{ bindCode }` (allowRegister 1). */
    override async getLoginCode(code: string): Promise<GetLoginCodeResult> {
      requireText("getLoginCode", "code", code);
      requireActive(this);
      // One code, one WeChat exchange, in every process (codeLedger.ts). A login code is the
      // answer to every repeat within 5 minutes (it is single use: one session at most comes
      // of it). A bind code goes to the first caller only: a repeat is WECHAT_CODE_USED, so a
      // replayer can never register its owner's identity first. Only a WeChat failure (no
      // identity yet) leaves the code open for a retry: after WeChat named the user, a retry
      // could as well be someone else's replay.
      return this.#gateway().once<GetLoginCodeResult>(
        code,
        "getLoginCode",
        async () => {
          // The session_key's write, the code's write and the ledger's record of the answer
          // go to the store in the same turn, so they share one commit (one fsync); the
          // answer goes out once all three are durable.
          const { identity, keySaved } = await this.#gateway().exchangeKeeping(code);
          let issued: Queued<GetLoginCodeResult>;
          try {
            issued = await this.#issueFor(identity);
          } catch (err) {
            // Refused (USER_AUTH_MISS…): still answer only once the new key is stored.
            await keySaved.catch(() => {});
            throw err;
          }
          return new Unwritten(issued.result, Promise.all([issued.written, keySaved]));
        },
        { keep: (result) => "loginCode" in result, retryable: (err) => isJitError(err) && err.family === "wechat" },
      );
    }

    async #issueFor(identity: WeChatIdentity): Promise<Queued<GetLoginCodeResult>> {
      const store = await storeOf(this.app);
      const userId = await resolveUser(store, identity, this.app.clock.now());
      if (userId !== null) {
        // debug: the HTTP layer already logs one info line per request; this is the hot path.
        this.app.logger.debug({ element: this.fullName, userId }, "login code issued");
        return queueLoginCodeFor(store, this.app.clock, this.fullName, identity, userId);
      }
      if (this.allowRegister !== 1) throw new LoginError("USER_AUTH_MISS", { fullName: this.fullName });
      this.app.logger.info({ element: this.fullName }, "bind code issued to an unregistered WeChat user");
      return queueBindCode(store, this.app.clock, identity);
    }

    /**
     * Creates the user and its binding, and a login code for it, in one transaction; the
     * result is a RowData. The login code is the credential the registering wx.login code
     * earned: it goes to this caller, who passes it to AuthSvc.loginByCode.
     */
    override async register(bindCode: string): Promise<RowData<RegisteredUser>> {
      requireText("register", "bindCode", bindCode);
      requireActive(this);
      if (this.allowRegister !== 1) throw new LoginError("USER_AUTH_MISS", { fullName: this.fullName });
      return this.#register(bindCode, null);
    }

    /**
     * register(), with the phone number from the phone button's code as the new user's phone,
     * in the same transaction as the user and its binding. A number already on another user
     * is PHONE_TAKEN (409) and nothing is created: accounts are never merged silently. The
     * phone code is spent either way (WeChat is asked before the transaction).
     */
    async registerByPhone(bindCode: string, phoneCode: string): Promise<RowData<RegisteredUser & { phone: string }>> {
      requireText("registerByPhone", "bindCode", bindCode);
      requireText("registerByPhone", "phoneCode", phoneCode);
      requireActive(this);
      if (this.allowRegister !== 1) throw new LoginError("USER_AUTH_MISS", { fullName: this.fullName });
      const phone = storedPhone(await phoneNumberFor(this.#gateway(), phoneCode));
      // Refused before the bind code is spent; the transaction checks again under its lock.
      if ((await (await storeOf(this.app)).findUserIdByPhone(phone)) !== null) throw new LoginError("PHONE_TAKEN");
      return this.#register(bindCode, phone) as Promise<RowData<RegisteredUser & { phone: string }>>;
    }

    async #register(bindCode: string, phone: string | null): Promise<RowData<RegisteredUser>> {
      const store = await storeOf(this.app);
      const { loginCode, stored } = newLoginCode(this.app.clock, this.fullName);
      const result = await store.redeemBindCode(hashToken(bindCode), this.app.clock.now(), {
        appId: this.appId,
        corp: registerCorpOf(this.authConfig),
        loginCode: stored,
        phone,
      });
      if (result.status === "invalid") throw new LoginError("BIND_CODE_INVALID");
      if (result.status === "expired") throw new LoginError("BIND_CODE_EXPIRED");
      const { user } = result;
      const corpList = await corpListOf(store, user.userId);
      this.app.logger.info({ element: this.fullName, userId: user.userId, byPhone: phone !== null }, "user registered");
      return rowData<RegisteredUser>({
        userId: user.userId,
        name: user.name,
        corpList,
        createdAt: user.createdAt,
        loginCode,
        expiresIn: CODE_TTL_SECONDS,
        ...(phone !== null ? { phone } : {}),
      });
    }

    /**
     * The phone number behind a phone-button code, stored on the user. Over HTTP it acts on
     * the logged-in user; trusted server code passes `userId`. PHONE_TAKEN when another user
     * holds the number.
     */
    async getPhoneNumber(code: string, userId?: number): Promise<PhoneNumberResult> {
      requireText("getPhoneNumber", "code", code);
      const target = userId ?? currentCallContext()?.userId;
      if (target === undefined) {
        throw new ElementError("ARGUMENT_INVALID", { function: "getPhoneNumber", argument: "userId", reason: "is required outside a logged-in call" });
      }
      requireUserId("getPhoneNumber", target);
      requireActive(this);
      const store = await storeOf(this.app);
      if (!(await store.getUser(target))) throw new LoginError("USER_NOT_FOUND", { userId: target });
      const result = await phoneNumberFor(this.#gateway(), code);
      await store.setUserPhone(target, storedPhone(result), this.app.clock.now());
      // The number itself is personal data: the log says whose, not what.
      this.app.logger.info({ element: this.fullName, userId: target }, "phone number stored");
      return result;
    }

    /** Whether WeChat still holds the user's stored session_key as current (87009 → false). Server side only. */
    async checkSessionKey(userId: number): Promise<{ valid: boolean }> {
      requireUserId("checkSessionKey", userId);
      return checkSessionKeyOf(this.#gateway(), userId);
    }

    /** Has WeChat issue the user a new session_key, stored sealed. Server side only. */
    async resetSessionKey(userId: number): Promise<{ success: true }> {
      requireUserId("resetSessionKey", userId);
      const result = await resetSessionKeyOf(this.#gateway(), userId);
      this.app.logger.info({ element: this.fullName, userId }, "session key reset");
      return result;
    }

    /** Binds the WeChat identity behind `code` to an existing user. */
    override async bind(userId: number, code: string): Promise<BindResult> {
      requireUserId("bind", userId);
      requireText("bind", "code", code);
      requireActive(this);
      const store = await storeOf(this.app);
      if (!(await store.getUser(userId))) throw new LoginError("USER_NOT_FOUND", { userId });
      if (await store.findBindingByUser(this.appId, userId)) throw new LoginError("ALREADY_BOUND", { userId, appId: this.appId });
      // The code serves this bind only (codeLedger.ts): a code that logged someone in, or
      // bound someone else, cannot bind its owner's identity to this user. The identity
      // WeChat named is the kept answer, so a repeat binds again without asking WeChat (a
      // bind after an unbind really binds); a failure before WeChat answered leaves the code open.
      const identity = await this.#gateway().once<WeChatIdentity>(code, `bind:${userId}`, () => this.#gateway().exchange(code), {
        keep: () => true,
        retryable: (err) => isJitError(err) && err.family === "wechat",
      });
      const existing = await store.findBindingByOpenId(this.appId, identity.openId);
      if (existing) throw new LoginError("WECHAT_ALREADY_BOUND", { appId: this.appId });
      // The store re-checks both unique rules, so a concurrent bind still gets a coded error.
      await store.createBinding({ ...identity, userId }, this.app.clock.now());
      this.app.logger.info({ element: this.fullName, userId }, "WeChat identity bound");
      return { success: true, userId, openId: identity.openId };
    }

    /** Removes the user's binding in this mini program. */
    override async unbind(userId: number): Promise<UnbindResult> {
      requireUserId("unbind", userId);
      const store = await storeOf(this.app);
      if (!(await store.deleteBinding(this.appId, userId, this.app.clock.now()))) throw new LoginError("NOT_BOUND", { userId, appId: this.appId });
      this.app.logger.info({ element: this.fullName, userId }, "WeChat identity unbound");
      return { success: true };
    }

    /** Decrypts wx open data with the user's stored session key (checks watermark.appid). */
    async decryptData(userId: number, encryptedData: string, iv: string): Promise<Record<string, unknown>> {
      requireUserId("decryptData", userId);
      requirePayload("decryptData", "encryptedData", encryptedData);
      requireText("decryptData", "iv", iv);
      return decryptForUser(this.#gateway(), userId, encryptedData, iv);
    }

    /** Checks sha1(rawData + session_key) in constant time; SIGNATURE_INVALID when it differs. */
    async verifyRawData(userId: number, rawData: string, signature: string): Promise<{ valid: true }> {
      requireUserId("verifyRawData", userId);
      requirePayload("verifyRawData", "rawData", rawData);
      requireText("verifyRawData", "signature", signature);
      return verifyForUser(this.#gateway(), userId, rawData, signature);
    }

    #authConfig(): WeChatMiniAuthConfig {
      return this.authConfig as unknown as WeChatMiniAuthConfig;
    }

    #gateway(): WeChatGateway {
      this.#gatewayInstance ??= new WeChatGateway(this.app, this.#authConfig());
      return this.#gatewayInstance;
    }
  };
