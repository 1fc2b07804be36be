import type { GetLoginCodeResult, RegisteredUser, WeChatMiniClass } from "jit-runtime/login";

/**
 * Acme's override of auths.loginTypes.WeChatMiniType. Same fullName as the platform Type, so
 * `Parent` is the platform's class (Odoo-style inheritance by name) and every instance this
 * app sees, including demo's myWeChatMiniLogin, gets this behaviour.
 */
export default (Parent: WeChatMiniClass) =>
  class AcmeWeChatMiniType extends Parent {
    override async getLoginCode(code: string): Promise<GetLoginCodeResult> {
      const first = await super.getLoginCode(code);
      if (!("bindCode" in first) || this.config.autoRegister !== true) return first;
      // register answers the new user's first login code: hand it on as a registered user's
      // getLoginCode answer. (The code itself answers once: a second getLoginCode with it is
      // WECHAT_CODE_USED.)
      const user = (await this.register(first.bindCode)).toJSON() as RegisteredUser;
      return { loginCode: user.loginCode, corpList: user.corpList, userId: user.userId, expiresIn: user.expiresIn };
    }
  };
