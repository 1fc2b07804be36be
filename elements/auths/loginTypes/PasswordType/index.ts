import { randomBytes } from "node:crypto";
import { currentCallContext, rowData, type RowData, hashToken } from "jit-runtime/element";
import type { LoginType } from "../Meta/index.ts";
import { requireText, requireUserId } from "../Meta/args.ts";
import { corpListOf } from "../Meta/corpList.ts";
import { limitIdentity, registerCorpOf, requireActive, requireCaller, requireRegistrationOpen } from "../Meta/guards.ts";
import { issueLoginCode, newLoginCode } from "../Meta/loginCodes.ts";
import { CODE_TTL_SECONDS, type LoginCodeResult, type RegisteredUser, type UnbindResult } from "../Meta/types.ts";
import { beginAttempt, retryAfterSeconds } from "./lockout.ts";
import { DEFAULT_PARAMS, hashPassword, needsRehash, verifyPassword, type ScryptParams } from "./passwordHash.ts";
import { normaliseUsername, requireNewPassword, requirePasswordInput } from "./policy.ts";
import type { PasswordAuthConfig, PasswordBindResult } from "./types.ts";
import { LoginError } from "../Meta/errors.ts";
import { storeOf } from "../../storage/storeOf.ts";

export type { PasswordLogin, PasswordAuthConfig, PasswordBindResult } from "./types.ts";

/** Address key of a call without one (a script, the CLI): one shared budget. */
const NO_ADDRESS = "-";

/**
 * auths.loginTypes.PasswordType: username and password login. It shares the family's login
 * codes, corp list and AuthSvc.loginByCode with the WeChat Type; only the credential check
 * differs. Usernames are unique per app (realm `password:<appId>`).
 */
export default (Parent: typeof LoginType) =>
  class PasswordType extends Parent {
    // A hash of nothing anyone knows, with the configured parameters: an unknown username is
    // checked against it, so it costs the same time as a wrong password.
    #dummy: Promise<string> | undefined;

    get realm(): string {
      return `password:${this.app.appId}`;
    }

    /** A new user with this username and password (allowRegister 1), and its first login code. */
    override async register(username: string, password: string, name?: string | null): Promise<RowData<RegisteredUser>> {
      requireActive(this);
      requireRegistrationOpen(this);
      const normal = normaliseUsername("register", username);
      requireNewPassword("register", "password", password, normal);
      const displayName = name === undefined || name === null || name === "" ? null : requireText("register", "name", name);
      const store = await storeOf(this.app);
      const { loginCode, stored } = newLoginCode(this.app.clock, this.fullName);
      const passwordHash = await hashPassword(password, this.#params());
      const user = await store.registerPasswordUser(
        { realm: this.realm, username: normal, passwordHash, name: displayName, corp: registerCorpOf(this.authConfig), loginCode: stored },
        this.app.clock.now(),
      );
      const corpList = await corpListOf(store, user.userId);
      this.app.logger.info({ element: this.fullName, userId: user.userId }, "user registered by password");
      return rowData<RegisteredUser>({ userId: user.userId, name: user.name, corpList, createdAt: user.createdAt, loginCode, expiresIn: CODE_TTL_SECONDS });
    }

    /**
     * Username and password → `{ loginCode, corpList, userId, expiresIn }`. A wrong password
     * and an unknown username get the same CREDENTIALS_INVALID after the same work (one
     * scrypt); a locked username or address gets LOGIN_LOCKED before any, whether the
     * username exists or not.
     */
    override async getLoginCode(username: string, password: string): Promise<LoginCodeResult> {
      const normal = normaliseUsername("getLoginCode", username);
      requirePasswordInput("getLoginCode", "password", password);
      requireActive(this);
      const userId = await this.#checkCredentials(normal, password);
      await limitIdentity(this.realm, normal);
      const store = await storeOf(this.app);
      this.app.logger.debug({ element: this.fullName, userId }, "login code issued");
      return issueLoginCode(store, this.app.clock, { loginType: this.fullName, appId: this.realm, openId: normal }, userId);
    }

    /**
     * Gives an existing user (over HTTP: the logged-in one) a username and password, e.g. a
     * user created by WeChat register who wants to log in by password too.
     */
    override async bind(userId: number, username: string, password: string): Promise<PasswordBindResult> {
      requireUserId("bind", userId);
      const normal = normaliseUsername("bind", username);
      requireNewPassword("bind", "password", password, normal);
      requireActive(this);
      const store = await storeOf(this.app);
      if (!(await store.getUser(userId))) throw new LoginError("USER_NOT_FOUND", { userId });
      if (await store.findPasswordCredentialByUser(this.realm, userId)) throw new LoginError("PASSWORD_ALREADY_SET", { userId, fullName: this.fullName });
      const passwordHash = await hashPassword(password, this.#params());
      try {
        await store.createPasswordCredential({ realm: this.realm, username: normal, userId, passwordHash }, this.app.clock.now());
      } catch (err) {
        // The store names the realm; the caller knows this element by its fullName.
        if (err instanceof LoginError && err.code === "PASSWORD_ALREADY_SET") throw new LoginError("PASSWORD_ALREADY_SET", { userId, fullName: this.fullName });
        throw err;
      }
      this.app.logger.info({ element: this.fullName, userId }, "password login set");
      return { success: true, userId, username: normal };
    }

    /** Removes the user's password login; the login codes and sessions it issued go with it. */
    override async unbind(userId: number): Promise<UnbindResult> {
      requireUserId("unbind", userId);
      const store = await storeOf(this.app);
      if (!(await store.deletePasswordCredential(this.realm, userId, this.app.clock.now()))) throw new LoginError("PASSWORD_NOT_SET", { userId, fullName: this.fullName });
      this.app.logger.info({ element: this.fullName, userId }, "password login removed");
      return { success: true };
    }

    /**
     * The logged-in user's new password. The old one is checked (and counts towards the
     * lockout like a login); every other session of the user ends, the caller's stays.
     */
    async updatePassword(oldPassword: string, newPassword: string): Promise<{ success: true }> {
      requirePasswordInput("updatePassword", "oldPassword", oldPassword);
      const caller = await requireCaller(this.app);
      requireActive(this);
      const store = await storeOf(this.app);
      const credential = await store.findPasswordCredentialByUser(this.realm, caller.userId);
      if (!credential) throw new LoginError("PASSWORD_NOT_SET", { userId: caller.userId, fullName: this.fullName });
      requireNewPassword("updatePassword", "newPassword", newPassword, credential.username);
      await this.#checkCredentials(credential.username, oldPassword);
      const passwordHash = await hashPassword(newPassword, this.#params());
      await store.updatePasswordHash(this.realm, caller.userId, passwordHash, this.app.clock.now(), {
        endSessions: true,
        keepTokenHash: caller.token === null ? null : hashToken(caller.token),
      });
      this.app.logger.info({ element: this.fullName, userId: caller.userId }, "password changed; other sessions ended");
      return { success: true };
    }

    /**
     * The user behind a username and password, else LOGIN_LOCKED or CREDENTIALS_INVALID. The
     * lockout's counters are in the store (lockout.ts), shared by every process on the
     * database: one read per attempt, a write per failure, and on success a write only when
     * the username had failures to clear.
     */
    async #checkCredentials(username: string, password: string): Promise<number> {
      const ip = currentCallContext()?.ip ?? NO_ADDRESS;
      const store = await storeOf(this.app);
      const now = this.app.clock.now();
      const attempt = await beginAttempt(store, this.realm, username, ip, now);
      if (attempt.lockedUntil > now) throw new LoginError("LOGIN_LOCKED", { retryAfter: retryAfterSeconds(attempt.lockedUntil, now) });
      const credential = await store.findPasswordCredential(this.realm, username);
      const matches = await verifyPassword(password, credential?.passwordHash ?? (await this.#dummyHash()));
      if (!credential || !matches) {
        await attempt.fail(this.app.clock.now());
        throw new LoginError("CREDENTIALS_INVALID");
      }
      await attempt.succeed();
      if (needsRehash(credential.passwordHash, this.#params())) {
        // Parameters raised since this hash was made: store the stronger one now that the password is known.
        await store.updatePasswordHash(this.realm, credential.userId, await hashPassword(password, this.#params()), this.app.clock.now());
      }
      return credential.userId;
    }

    #dummyHash(): Promise<string> {
      this.#dummy ??= hashPassword(randomBytes(32).toString("base64"), this.#params());
      return this.#dummy;
    }

    #params(): ScryptParams {
      return (this.authConfig as PasswordAuthConfig).scrypt ?? DEFAULT_PARAMS;
    }
  };
