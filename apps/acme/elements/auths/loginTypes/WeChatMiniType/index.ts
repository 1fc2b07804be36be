import type { GetLoginCodeResult, WeChatMiniClass } from "jit-runtime/login";

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
      await this.register(first.bindCode);
      // The same code again: the platform exchanges a code with WeChat once and answers a
      // repeat within 5 minutes from that outcome, so this costs no second WeChat call.
      return super.getLoginCode(code);
    }
  };
