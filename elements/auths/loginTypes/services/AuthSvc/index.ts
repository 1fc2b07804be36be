import { SessionError, currentCallContext, ElementError, quoteInput, hashToken, newSecretToken } from "jit-runtime/element";
import type { Service } from "../../../../services/Meta/index.ts";
import type { CorpRef } from "../../Meta/types.ts";
import { corpListOf } from "../../Meta/corpList.ts";
import { LoginError } from "../../Meta/errors.ts";
import { storeOf } from "../../../storage/storeOf.ts";

/** 7 days, unless the config's sessionTtlSeconds says otherwise. */
const DEFAULT_SESSION_TTL_SECONDS = 604_800;
const MAX_TEXT = 256;

export interface LoginSession {
  token: string;
  expiresAt: number;
  userId: number;
  corpId: string | null;
}

export interface CurrentUser {
  userId: number;
  name: string | null;
  corpId: string | null;
  corpList: CorpRef[];
}

/** The public interface of auths.loginTypes.services.AuthSvc. */
export interface AuthService {
  loginByCode(loginCode: string, corpId?: string | null, platform?: string | null): Promise<LoginSession>;
  getCurrentUser(token?: string): Promise<CurrentUser>;
  logout(token?: string): Promise<{ success: true }>;
}

function text(fn: string, argument: string, value: unknown, optional: boolean): string | null {
  if (optional && (value === undefined || value === null || value === "")) return null;
  if (typeof value !== "string" || value.length === 0 || value.length > MAX_TEXT) {
    throw new ElementError("ARGUMENT_INVALID", { function: fn, argument, reason: `must be a non-empty string of at most ${MAX_TEXT} characters` });
  }
  return value;
}

/**
 * auths.loginTypes.services.AuthSvc: sessions for every login type. Optional arguments
 * (corpId, platform, token) may be omitted: over HTTP the token comes from the
 * Authorization header through the call context.
 */
export default (Parent: typeof Service) =>
  class AuthSvc extends Parent implements AuthService {
    /**
     * Spends a login code (single use, 5 minutes) and opens a session in corpId (or the
     * user's first corp), in one store transaction. A corpId the user is not in is
     * CORP_NOT_MEMBER and leaves the code unspent, so the client may retry with another corp.
     */
    async loginByCode(loginCode: string, corpId?: string | null, platform?: string | null): Promise<LoginSession> {
      text("loginByCode", "loginCode", loginCode, false);
      const wantedCorp = text("loginByCode", "corpId", corpId, true);
      text("loginByCode", "platform", platform, true);
      const store = await storeOf(this.app);
      const now = this.app.clock.now();
      const token = newSecretToken(32);
      const expiresAt = now + this.#ttlSeconds() * 1000;
      const redeemed = await store.redeemLoginCode(hashToken(loginCode), now, { tokenHash: hashToken(token), expiresAt, corpId: wantedCorp });
      if (redeemed.status === "invalid") throw new LoginError("LOGIN_CODE_INVALID");
      if (redeemed.status === "expired") throw new LoginError("LOGIN_CODE_EXPIRED");
      if (redeemed.status === "not_member") throw new LoginError("CORP_NOT_MEMBER", { corpId: wantedCorp });
      const { userId, corpId: sessionCorp } = redeemed.session;
      // platform is whatever the client sent: quoted like any client input in a log line.
      this.app.logger.info({ element: this.fullName, userId, corpId: sessionCorp, platform: platform ? quoteInput(platform) : undefined }, "session opened");
      return { token, expiresAt, userId, corpId: sessionCorp };
    }

    /** The user of a live session; the token defaults to the caller's (call context). */
    async getCurrentUser(token?: string): Promise<CurrentUser> {
      const store = await storeOf(this.app);
      const session = await store.getSession(hashToken(this.#token(token)), this.app.clock.now());
      if (!session) throw new SessionError("TOKEN_INVALID");
      const user = await store.getUser(session.userId);
      if (!user) throw new SessionError("TOKEN_INVALID");
      const corpList = await corpListOf(store, user.userId);
      return { userId: user.userId, name: user.name, corpId: session.corpId, corpList };
    }

    /** Ends the session on the server. */
    async logout(token?: string): Promise<{ success: true }> {
      const store = await storeOf(this.app);
      const tokenHash = hashToken(this.#token(token));
      // An expired session is as good as unknown: refuse, but still delete the row.
      const live = await store.getSession(tokenHash, this.app.clock.now());
      const deleted = await store.deleteSession(tokenHash);
      if (!live || !deleted) throw new SessionError("TOKEN_INVALID");
      this.app.logger.info({ element: this.fullName, userId: live.userId }, "session closed");
      return { success: true };
    }

    #token(token: unknown): string {
      const value = token ?? currentCallContext()?.token;
      if (value === undefined || value === null || value === "") throw new SessionError("LOGIN_REQUIRED");
      if (typeof value !== "string" || value.length > MAX_TEXT) throw new SessionError("TOKEN_INVALID");
      return value;
    }

    #ttlSeconds(): number {
      const value = this.config.sessionTtlSeconds;
      return typeof value === "number" && Number.isSafeInteger(value) && value > 0 ? value : DEFAULT_SESSION_TTL_SECONDS;
    }
  };
