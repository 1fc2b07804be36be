import { ElementBase, ElementError, type JitError, type RowData } from "jit-runtime/element";
import type {
  GetLoginCodeResult,
  LoginConfig,
  RegisteredUser,
  UnbindResult,
} from "./types.ts";

// The family's data: loading the family's root offers its store to App.getStore().
import "../../storage/index.ts";

export type * from "./types.ts";

/**
 * The base class of every login Type (auths.loginTypes.*): the shared interface. A Type
 * overrides the four methods; the Meta's versions only say the Type did not. What the Types
 * share besides lives in this folder: login codes (loginCodes.ts), checks and per-identity
 * limits (guards.ts), argument checks (args.ts), the corp list (corpList.ts).
 *
 * `authConfig` holds credentials (e.g. the AppSecret): it is never part of any output.
 * Use getLoginConfig() for what may be shown; toJSON() returns the same.
 */
export class LoginType extends ElementBase {
  // Brand of real instances. pino's redaction clones logged objects with
  // Object.create(prototype): getters then run on a copy without private state, so they
  // must not touch it there (logging an element must neither crash nor leak).
  #real = true;

  /** Which kind of login this is: the last segment of the family's Type (the link just above the Meta). */
  get authType(): string {
    const chain = this.define.chain;
    const typeLink = chain.length >= 2 ? chain[chain.length - 2]! : chain[0]!;
    return typeLink.fullName.split(".").pop() ?? typeLink.fullName;
  }

  get authConfig(): Readonly<Record<string, unknown>> {
    if (!(#real in this)) return {};
    const value = this.config.authConfig;
    return typeof value === "object" && value !== null ? (value as Record<string, unknown>) : {};
  }

  get allowRegister(): 0 | 1 {
    const value = this.config.allowRegister ?? this.define.declared.allowRegister;
    return value === 1 ? 1 : 0;
  }

  get isActive(): boolean {
    return this.config.isActive !== false;
  }

  getLoginConfig(): LoginConfig {
    const appId = this.authConfig.appId;
    return {
      fullName: this.fullName,
      title: this.title,
      authType: this.authType,
      allowRegister: this.allowRegister,
      isActive: this.isActive,
      appId: typeof appId === "string" ? appId : null,
    };
  }

  /** A logger or JSON.stringify that meets the element sees only public fields. */
  toJSON(): LoginConfig | Record<string, never> {
    return #real in this ? this.getLoginConfig() : {};
  }

  // Each Type takes its own credentials (a wx.login code; a username and password), so the
  // Meta's versions take any arguments; a Type's override names them.
  async getLoginCode(..._credentials: any[]): Promise<GetLoginCodeResult> {
    throw notImplemented(this, "getLoginCode");
  }

  async register(..._credentials: any[]): Promise<RowData<RegisteredUser>> {
    throw notImplemented(this, "register");
  }

  async bind(..._credentials: any[]): Promise<{ success: true; userId: number }> {
    throw notImplemented(this, "bind");
  }

  async unbind(_userId: number): Promise<UnbindResult> {
    throw notImplemented(this, "unbind");
  }
}

// A function, not a protected method: the compiled .d.ts of a Type's class factory cannot
// name protected members (TS4094), and an app's Type override is typed from it.
function notImplemented(element: LoginType, name: string): JitError {
  return new ElementError("FUNCTION_NOT_FOUND", { fullName: element.fullName, function: name });
}

export default LoginType;
