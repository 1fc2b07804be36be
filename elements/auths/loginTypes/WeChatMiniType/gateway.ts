import { type AppContext, memoizeSuccess, parsePreviousMasterKeys, hashToken } from "jit-runtime/element";
import { createAccessTokens, sharedAccessTokens, createWeChatHttp, createWeChatServerApi, DEFAULT_WECHAT_TIMEOUT_MS, getSharedExchange, resolveApiBase, type AccessTokens, type WeChatServerApi } from "./wechat/index.ts";
import { limitIdentity } from "../Meta/guards.ts";
import { createCodeLedger, type ClaimOptions, type ClaimRun, type CodeLedger } from "./codeLedger.ts";
import { createAccessTokenSeal, createSessionKeyVault } from "./vault/index.ts";
import type { WeChatMiniAuthConfig } from "./types.ts";
import { LoginError } from "../Meta/errors.ts";
import { VaultError } from "./vault/errors.ts";
import { storeOf } from "../../storage/storeOf.ts";

/** Who a wx.login code belongs to, per mini program AppID. */
export interface WeChatIdentity {
  appId: string;
  openId: string;
  unionId: string | null;
}

type Exchange = ReturnType<typeof getSharedExchange>;

/** A ledger claim's lease beyond the WeChat timeout: the store writes that follow the exchange. */
const LEASE_MARGIN_MS = 5_000;
type Vault = Awaited<ReturnType<typeof createSessionKeyVault>>;

/**
 * The element's door to WeChat and to the session-key vault. The session_key goes straight
 * from the exchange into the vault and never comes back to the element's callers.
 */
export class WeChatGateway {
  readonly appId: string;
  readonly #app: AppContext;
  readonly #authConfig: WeChatMiniAuthConfig;
  #exchange: Exchange | undefined;
  #ledger: CodeLedger | undefined;
  // A failed start (bad master key) is not cached, so the next call reports it again.
  readonly #getVault = memoizeSuccess(
    async (): Promise<Vault> =>
      createSessionKeyVault({
        masterKey: await this.#app.getMasterKey(),
        previousMasterKeys: parsePreviousMasterKeys(this.#app.env),
        store: await storeOf(this.#app),
        clock: this.#app.clock,
      }),
  );

  /** The calls that need an access token, and the token they share with every server of the AppID. */
  readonly server = memoizeSuccess(async (): Promise<{ api: WeChatServerApi; tokens: AccessTokens }> => {
    const base = resolveApiBase(this.#authConfig.apiBase, this.#app.env);
    const http = createWeChatHttp(base, this.#authConfig.timeoutMs ?? DEFAULT_WECHAT_TIMEOUT_MS);
    const api = createWeChatServerApi(http, this.appId, this.#authConfig.appSecret);
    const seal = createAccessTokenSeal(await this.#app.getMasterKey());
    const store = await storeOf(this.#app);
    const key = `${base}\n${this.appId}\n${hashToken(this.#authConfig.appSecret)}`;
    const tokens = sharedAccessTokens(store, key, () => createAccessTokens({ appId: this.appId, api, store, seal, clock: this.#app.clock }));
    return { api, tokens };
  });

  constructor(app: AppContext, authConfig: WeChatMiniAuthConfig) {
    this.#app = app;
    this.#authConfig = authConfig;
    this.appId = authConfig.appId;
  }

  /**
   * Exchanges a wx.login code exactly once (the shared exchange dedupes concurrent and
   * repeated codes), keeps the newest session_key in the vault, and lets the front door
   * rate-limit the identity (a refusal still stores the key).
   */
  async exchange(code: string): Promise<WeChatIdentity> {
    const { identity, keySaved } = await this.exchangeKeeping(code);
    await keySaved;
    return identity;
  }

  /**
   * Like exchange, but hands back the identity without waiting for the session_key's write
   * to commit: the caller queues its own writes in the same store commit (one fsync instead
   * of two) and MUST await `keySaved` before answering. `keySaved` never rejects unobserved.
   */
  async exchangeKeeping(code: string): Promise<{ identity: WeChatIdentity; keySaved: Promise<void> }> {
    const { openId, unionId, sessionKey } = await this.#getExchange().code2Session(code);
    const identity: WeChatIdentity = { appId: this.appId, openId, unionId: unionId ?? null };
    // WeChat has spent the code and replaced the user's session_key by now: keep the new key
    // first, whatever happens next, or decryptData would work with a stale one.
    const vault = await this.#getVault();
    const keySaved = vault.save(this.appId, openId, sessionKey);
    // Observed here so a failure never counts as unhandled if the caller (or the hook) fails first.
    keySaved.catch(() => {});
    try {
      // The per-identity limit protects our server (codes, sessions, commits), not WeChat's
      // quota: the exchange above has already happened.
      await limitIdentity(this.appId, openId);
    } catch (err) {
      // Refused: answer only once the new key is stored; the refusal is the error reported.
      await keySaved.catch(() => {});
      throw err;
    }
    return { identity, keySaved };
  }

  /**
   * Runs `run` as the one use `use` of a wx.login code, once across every process on the
   * store (codeLedger.ts): another use of the code is WECHAT_CODE_USED; a repeat gets the
   * kept answer, or WECHAT_CODE_USED when the result was not kept.
   */
  once<T>(code: string, use: string, run: ClaimRun<T>, options: ClaimOptions<T>): Promise<T> {
    return this.ledger().claim(code, use, run, options);
  }

  /** The stored session key of a bound user, or SESSION_KEY_MISSING. */
  async sessionKeyOf(userId: number): Promise<string> {
    const store = await storeOf(this.#app);
    const binding = await store.findBindingByUser(this.appId, userId);
    const sessionKey = binding ? await (await this.#getVault()).get(this.appId, binding.openId) : null;
    if (!sessionKey) throw new VaultError("SESSION_KEY_MISSING", { userId });
    return sessionKey;
  }

  /** The openId of a user bound in this mini program, else NOT_BOUND. */
  async openIdOf(userId: number): Promise<string> {
    const store = await storeOf(this.#app);
    const binding = await store.findBindingByUser(this.appId, userId);
    if (!binding) throw new LoginError("NOT_BOUND", { userId, appId: this.appId });
    return binding.openId;
  }

  /** Keeps a session_key WeChat handed out (resetusersessionkey), sealed. */
  async keepSessionKey(openId: string, sessionKey: string): Promise<void> {
    await (await this.#getVault()).save(this.appId, openId, sessionKey);
  }

  /** The code ledger (codeLedger.ts), in the store: wx.login codes, and other one-use codes (phone codes). */
  ledger(): CodeLedger {
    this.#ledger ??= createCodeLedger({
      appId: this.appId,
      clock: this.#app.clock,
      // The run is one WeChat call and a few store writes: past the call's own timeout and a
      // margin, its holder is taken to be dead and the next caller takes the code over.
      leaseMs: (this.#authConfig.timeoutMs ?? DEFAULT_WECHAT_TIMEOUT_MS) + LEASE_MARGIN_MS,
      store: () => storeOf(this.#app),
      seal: () => this.#getVault(),
    });
    return this.#ledger;
  }

  #getExchange(): Exchange {
    this.#exchange ??= getSharedExchange({
      appId: this.appId,
      appSecret: this.#authConfig.appSecret,
      apiBase: this.#authConfig.apiBase,
      env: this.#app.env,
      clock: this.#app.clock,
      timeoutMs: this.#authConfig.timeoutMs,
    });
    return this.#exchange;
  }
}
