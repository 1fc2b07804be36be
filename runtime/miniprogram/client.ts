import { JitApiError, JitClientError } from "./errors.ts";
import type { ErrorCode } from "../errors/codes.ts";

/**
 * The client half of the login, for a WeChat mini program (plain JS after compilation; it
 * uses only the `wx` object it is given): wx.login → getLoginCode → register (a new WeChat
 * user, when the client allows it) → loginByCode, the session token kept with
 * wx.setStorageSync, and `call` through wx.request with the Bearer token, logging in again
 * once when the server answers 401 TOKEN_INVALID.
 */

/** The part of the mini program's `wx` this client uses. */
export interface WxLike {
  login(options: { timeout?: number; success(res: { code: string }): void; fail(err: unknown): void }): void;
  request(options: {
    url: string;
    method: "POST";
    data: string;
    header: Record<string, string>;
    dataType: "json";
    timeout?: number;
    success(res: { statusCode: number; data: unknown; header?: Record<string, string> }): void;
    fail(err: { errMsg?: string }): void;
  }): void;
  getStorageSync(key: string): unknown;
  setStorageSync(key: string, value: unknown): void;
  removeStorageSync(key: string): void;
}

export interface Session {
  token: string;
  userId: number;
  corpId: string | null;
  expiresAt: number;
}

/** One step of a login or call, for a developer watching the flow (the console's simulator). */
export interface Step {
  name: "wx.login" | "getLoginCode" | "register" | "loginByCode" | "call";
  request: unknown;
  response: unknown;
  ok: boolean;
}

export interface ClientOptions {
  /** Where `jit serve` answers, e.g. "https://api.example.com" (no trailing slash needed). */
  baseUrl: string;
  /** The jit app id (the `<appId>` of `/api/<appId>/...`), not the WeChat AppID. */
  appId: string;
  /** fullName of the login element, e.g. "auths.loginTypes.myWeChatMiniLogin". */
  loginElement: string;
  /** fullName of the session service (default "auths.loginTypes.services.AuthSvc"). */
  authService?: string;
  /** Register a WeChat user the server does not know (default true). */
  register?: boolean;
  /** Organisation to log in to (loginByCode's corpId); default the server's choice. */
  corpId?: string;
  /** Sent to loginByCode as `platform` (shown in the server's log). */
  platform?: string;
  /** Storage key of the session (default "jit-runtime.session"). */
  storageKey?: string;
  /** Milliseconds per request (default 10 s). */
  timeoutMs?: number;
  /** The `wx` object; default the mini program's global `wx`. */
  wx?: WxLike;
  /** Called after each step with its request and answer (tokens and codes included). */
  onStep?: (step: Step) => void;
}

const AUTH_SERVICE = "auths.loginTypes.services.AuthSvc";

// In a mini program `wx` is a free global (older base libraries have no globalThis).
declare const wx: WxLike | undefined;

function toPath(element: string): string {
  return element.replace(/^\/+|\/+$/g, "").split(/[./]/).map(encodeURIComponent).join("/");
}

export class JitClient {
  readonly #o: Required<Omit<ClientOptions, "corpId" | "platform" | "onStep" | "wx">> & Pick<ClientOptions, "corpId" | "platform" | "onStep">;
  readonly #wx: WxLike;
  /** One login at a time: concurrent 401s share it. */
  #loggingIn: Promise<Session> | null = null;

  constructor(options: ClientOptions) {
    const given = options.wx ?? (typeof wx !== "undefined" ? wx : undefined);
    if (!given) throw new TypeError("JitClient needs the mini program's wx object (options.wx)");
    this.#wx = given;
    this.#o = {
      baseUrl: options.baseUrl.replace(/\/+$/, ""),
      appId: options.appId,
      loginElement: options.loginElement,
      authService: options.authService ?? AUTH_SERVICE,
      register: options.register ?? true,
      storageKey: options.storageKey ?? "jit-runtime.session",
      timeoutMs: options.timeoutMs ?? 10_000,
      corpId: options.corpId,
      platform: options.platform,
      onStep: options.onStep,
    };
  }

  /** The stored session, or null. */
  session(): Session | null {
    const value = this.#wx.getStorageSync(this.#o.storageKey) as Session | "" | undefined;
    return value && typeof value === "object" && typeof value.token === "string" ? value : null;
  }

  /** Forgets the stored session (the server's stays until it expires; see logout). */
  clear(): void {
    this.#wx.removeStorageSync(this.#o.storageKey);
  }

  /** Logs in (registering a new WeChat user when allowed) and stores the session. */
  login(): Promise<Session> {
    this.#loggingIn ??= this.#login().finally(() => (this.#loggingIn = null));
    return this.#loggingIn;
  }

  async #login(): Promise<Session> {
    const first = await this.#post<LoginCodeAnswer>(this.#o.loginElement, "getLoginCode", { code: await this.wxLogin() }, null, "getLoginCode");
    let loginCode = first.loginCode;
    if (!loginCode && first.bindCode) {
      if (!this.#o.register) throw new JitClientError("REGISTRATION_OFF", "this WeChat user is not registered and the client was created with register: false");
      const registered = await this.#post<LoginCodeAnswer>(this.#o.loginElement, "register", { bindCode: first.bindCode }, null, "register");
      // A server that answers register with a login code saves a second wx.login.
      loginCode = registered.loginCode ?? (await this.#post<LoginCodeAnswer>(this.#o.loginElement, "getLoginCode", { code: await this.wxLogin() }, null, "getLoginCode")).loginCode;
    }
    if (!loginCode) throw new JitClientError("BAD_RESPONSE", "getLoginCode answered neither a loginCode nor a bindCode");
    const args: Record<string, unknown> = { loginCode };
    if (this.#o.corpId) args.corpId = this.#o.corpId;
    if (this.#o.platform) args.platform = this.#o.platform;
    const answer = await this.#post<Session>(this.#o.authService, "loginByCode", args, null, "loginByCode");
    const session: Session = { token: answer.token, userId: answer.userId, corpId: answer.corpId ?? null, expiresAt: answer.expiresAt };
    this.#wx.setStorageSync(this.#o.storageKey, session);
    return session;
  }

  /**
   * Calls `element.fn(args)` with the stored token (when there is one). On 401 TOKEN_INVALID
   * or LOGIN_REQUIRED it logs in once and retries once; any other error is thrown as is.
   */
  async call<T = unknown>(element: string, fn: string, args: Record<string, unknown> = {}): Promise<T> {
    try {
      return await this.#post<T>(element, fn, args, this.session()?.token ?? null, "call");
    } catch (err) {
      if (!(err instanceof JitApiError) || (err.code !== "TOKEN_INVALID" && err.code !== "LOGIN_REQUIRED")) throw err;
      this.clear();
      const session = await this.login();
      return this.#post<T>(element, fn, args, session.token, "call");
    }
  }

  /**
   * Binds the logged-in user (a session opened by any login type) to this WeChat identity
   * with a fresh wx.login code. No automatic login: logging in here could register a new user.
   */
  async bind(): Promise<unknown> {
    const session = this.#required("bind");
    return this.#post(this.#o.loginElement, "bind", { userId: session.userId, code: await this.wxLogin() }, session.token, "call");
  }

  /**
   * Unbinds the logged-in user's WeChat identity in this mini program. The server ends that
   * identity's sessions, so the stored one is forgotten; the next login() starts afresh (a
   * new registration, unless the app binds the identity again).
   */
  async unbind(): Promise<unknown> {
    const session = this.#required("unbind");
    const result = await this.#post(this.#o.loginElement, "unbind", { userId: session.userId }, session.token, "call");
    this.clear();
    return result;
  }

  #required(what: string): Session {
    const session = this.session();
    if (!session) throw new JitClientError("NOT_LOGGED_IN", `${what} needs a logged-in user: call login() first`);
    return session;
  }

  /** Ends the session on the server and forgets it here. */
  async logout(): Promise<void> {
    const token = this.session()?.token;
    this.clear();
    if (token) await this.#post(this.#o.authService, "logout", {}, token, "call").catch(() => undefined);
  }

  /** wx.login as a promise. */
  wxLogin(): Promise<string> {
    return new Promise((resolve, reject) => {
      this.#wx.login({
        timeout: this.#o.timeoutMs,
        success: (res) => {
          this.#o.onStep?.({ name: "wx.login", request: {}, response: res, ok: true });
          if (typeof res?.code === "string" && res.code) resolve(res.code);
          else reject(new JitClientError("WX_LOGIN_FAILED", "wx.login gave no code"));
        },
        fail: (err) => {
          this.#o.onStep?.({ name: "wx.login", request: {}, response: err, ok: false });
          reject(new JitClientError("WX_LOGIN_FAILED", `wx.login failed: ${(err as { errMsg?: string })?.errMsg ?? String(err)}`));
        },
      });
    });
  }

  #post<T>(element: string, fn: string, args: Record<string, unknown>, token: string | null, step: Step["name"]): Promise<T> {
    const url = `${this.#o.baseUrl}/api/${encodeURIComponent(this.#o.appId)}/${toPath(element)}/${encodeURIComponent(fn)}`;
    const header: Record<string, string> = { "content-type": "application/json" };
    if (token) header.authorization = `Bearer ${token}`;
    const report = (response: unknown, ok: boolean) =>
      this.#o.onStep?.({ name: step, request: { url, body: args, ...(token ? { authorization: "Bearer …" } : {}) }, response, ok });
    return new Promise<T>((resolve, reject) => {
      this.#wx.request({
        url,
        method: "POST",
        data: JSON.stringify(args),
        header,
        dataType: "json",
        timeout: this.#o.timeoutMs,
        success: (res) => {
          const body = res.data as { data?: unknown; error?: { code?: unknown; message?: unknown; requestId?: unknown } } | null;
          report({ status: res.statusCode, body }, res.statusCode === 200);
          if (res.statusCode === 200 && body && typeof body === "object" && "data" in body) return resolve(body.data as T);
          const error = body && typeof body === "object" ? body.error : undefined;
          if (error && typeof error.code === "string") {
            return reject(new JitApiError(error.code as ErrorCode, String(error.message ?? ""), res.statusCode, typeof error.requestId === "string" ? error.requestId : null));
          }
          reject(new JitClientError("BAD_RESPONSE", `${fn} answered HTTP ${res.statusCode} without the error envelope`));
        },
        fail: (err) => {
          report(err, false);
          reject(new JitClientError("NETWORK_ERROR", `${fn}: ${err?.errMsg ?? "request failed"}`));
        },
      });
    });
  }
}

interface LoginCodeAnswer {
  loginCode?: string;
  bindCode?: string;
  userId?: number;
}

export function createClient(options: ClientOptions): JitClient {
  return new JitClient(options);
}
