import { afterEach, describe, expect, it } from "vitest";
import type { ManualClock } from "../runtime/clock.ts";
import type { LoginTypeApi } from "../elements/auths/loginTypes/Meta/types.ts";
import type { AuthService } from "../elements/auths/loginTypes/services/AuthSvc/index.ts";

/** What every login Type exposes (the Meta's interface). */
export type ContractLogin = LoginTypeApi;

export interface ContractSubject {
  login: ContractLogin;
  authSvc: AuthService;
  clock: ManualClock;
  /** A fresh, valid login code (the Type's `code` argument) for the identity named `who`. */
  codeFor(who: string): string;
  /** Words that must never appear in any result or error (credentials of the Type's config). */
  secrets: string[];
  /** Creates a user with no binding in this Type, returns its id. */
  createUser(): Promise<number>;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  allowRegister?: 0 | 1;
  isActive?: boolean;
}

const FIVE_MINUTES = 300_000;

async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code ?? `uncoded: ${String(err)}`;
  }
  return "no error";
}

/**
 * The login contract: every login Type must pass it (style.md §7). `make` builds a fresh
 * subject (own database, own clock) per test.
 */
export function describeLoginContract(name: string, make: (options: ContractOptions) => Promise<ContractSubject>): void {
  describe(`login contract: ${name}`, () => {
    let subject: ContractSubject | undefined;
    const open = async (options: ContractOptions = {}) => (subject = await make({ allowRegister: 1, ...options }));
    afterEach(async () => {
      await subject?.cleanup();
      subject = undefined;
    });

    it("describes itself publicly without any credential", async () => {
      const s = await open();
      const config = s.login.getLoginConfig();
      expect(config).toMatchObject({ authType: s.login.authType, allowRegister: 1, isActive: true });
      const shown = JSON.stringify(config) + JSON.stringify(s.login);
      for (const secret of s.secrets) expect(shown).not.toContain(secret);
    });

    it("registers a new identity with a bind code, then logs it in with a login code and a session", async () => {
      const s = await open();
      const first = await s.login.getLoginCode(s.codeFor("alice"));
      expect(first).toEqual({ bindCode: expect.any(String), expiresIn: 300 });
      if (!("bindCode" in first)) throw new Error("unreachable");
      const user = await s.login.register(first.bindCode);
      expect(user.userId.value).toBeGreaterThan(0);
      // register hands the registering client its login code: no second code needed.
      expect(JSON.parse(JSON.stringify(user))).toMatchObject({ userId: user.userId.value, loginCode: expect.any(String), expiresIn: 300 });
      const session = await s.authSvc.loginByCode(user.loginCode.value);
      expect(session.userId).toBe(user.userId.value);
      expect((await s.authSvc.getCurrentUser(session.token)).userId).toBe(user.userId.value);
      expect(await s.authSvc.logout(session.token)).toEqual({ success: true });
      expect(await codeOf(s.authSvc.getCurrentUser(session.token))).toBe("TOKEN_INVALID");

      // The next login takes a fresh client code.
      const second = await s.login.getLoginCode(s.codeFor("alice"));
      expect(second).toEqual({ loginCode: expect.any(String), corpList: expect.any(Array), userId: user.userId.value, expiresIn: 300 });
      if (!("loginCode" in second)) throw new Error("unreachable");
      expect((await s.authSvc.loginByCode(second.loginCode)).userId).toBe(user.userId.value);
    });

    // Regression: after register, the registering client code still answered a login code
    // (the one it was "owed"), so anyone who replayed it opened a session on the new account.
    it("refuses a replay of the registering client code in any order of calls, and opens no session for it", async () => {
      const s = await open();
      const code = s.codeFor("ivan");
      const first = await s.login.getLoginCode(code);
      if (!("bindCode" in first)) throw new Error("expected a bind code");
      // Before register: the replay gets nothing (not the bind code).
      expect(await codeOf(s.login.getLoginCode(code))).toBe("WECHAT_CODE_USED");
      // During register.
      const [user, during] = await Promise.all([s.login.register(first.bindCode), codeOf(s.login.getLoginCode(code))]);
      expect(during).toBe("WECHAT_CODE_USED");
      // After register, and after the owner logged in.
      expect(await codeOf(s.login.getLoginCode(code))).toBe("WECHAT_CODE_USED");
      const session = await s.authSvc.loginByCode(user.loginCode.value);
      expect(await codeOf(s.login.getLoginCode(code))).toBe("WECHAT_CODE_USED");
      expect(await codeOf(s.login.register(first.bindCode))).toBe("BIND_CODE_INVALID");
      // The owner's login code was the only one: spent.
      expect(await codeOf(s.authSvc.loginByCode(user.loginCode.value))).toBe("LOGIN_CODE_INVALID");
      expect((await s.authSvc.getCurrentUser(session.token)).userId).toBe(user.userId.value);
    });

    it("makes bind and login codes single-use and valid for 5 minutes", async () => {
      const s = await open();
      const a = await s.login.getLoginCode(s.codeFor("bob"));
      if (!("bindCode" in a)) throw new Error("expected a bind code");
      await s.login.register(a.bindCode);
      expect(await codeOf(s.login.register(a.bindCode))).toBe("BIND_CODE_INVALID");

      const b = await s.login.getLoginCode(s.codeFor("carol"));
      if (!("bindCode" in b)) throw new Error("expected a bind code");
      s.clock.advance(FIVE_MINUTES);
      expect(await codeOf(s.login.register(b.bindCode))).toBe("BIND_CODE_EXPIRED");
      expect(await codeOf(s.login.register(b.bindCode))).toBe("BIND_CODE_INVALID");

      const c = await s.login.getLoginCode(s.codeFor("bob"));
      if (!("loginCode" in c)) throw new Error("expected a login code");
      await s.authSvc.loginByCode(c.loginCode);
      expect(await codeOf(s.authSvc.loginByCode(c.loginCode))).toBe("LOGIN_CODE_INVALID");
      const d = await s.login.getLoginCode(s.codeFor("bob"));
      if (!("loginCode" in d)) throw new Error("expected a login code");
      s.clock.advance(FIVE_MINUTES);
      expect(await codeOf(s.authSvc.loginByCode(d.loginCode))).toBe("LOGIN_CODE_EXPIRED");
    });

    it("a repeated code of a registered user gets the same login code, concurrent or later; it opens one session", async () => {
      const s = await open();
      const a = await s.login.getLoginCode(s.codeFor("gina"));
      if (!("bindCode" in a)) throw new Error("expected a bind code");
      await s.login.register(a.bindCode);
      const code = s.codeFor("gina");
      const answers = [...(await Promise.all([s.login.getLoginCode(code), s.login.getLoginCode(code)])), await s.login.getLoginCode(code)];
      const codes = answers.map((r) => {
        if (!("loginCode" in r)) throw new Error("expected a login code");
        return r.loginCode;
      });
      expect(new Set(codes).size).toBe(1);
      await s.authSvc.loginByCode(codes[0]!);
      expect(await codeOf(s.authSvc.loginByCode(codes[0]!))).toBe("LOGIN_CODE_INVALID");
    });

    it("a repeated code of an unregistered user is WECHAT_CODE_USED, concurrent or later: the bind code reaches one caller", async () => {
      const s = await open();
      const code = s.codeFor("hugo");
      const outcomes = [...(await Promise.allSettled([s.login.getLoginCode(code), s.login.getLoginCode(code)])), ...(await Promise.allSettled([s.login.getLoginCode(code)]))];
      const answers = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
      expect(answers).toHaveLength(1);
      expect(answers[0]).toEqual({ bindCode: expect.any(String), expiresIn: 300 });
      for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "WECHAT_CODE_USED" });
    });

    it("binds and unbinds existing users with the documented conflicts", async () => {
      const s = await open();
      const userA = await s.createUser();
      const userB = await s.createUser();
      expect(await s.login.bind(userA, s.codeFor("dave"))).toMatchObject({ success: true, userId: userA });
      expect(await codeOf(s.login.bind(userA, s.codeFor("erin")))).toBe("ALREADY_BOUND");
      expect(await codeOf(s.login.bind(userB, s.codeFor("dave")))).toBe("WECHAT_ALREADY_BOUND");
      expect(await codeOf(s.login.bind(999_999, s.codeFor("frank")))).toBe("USER_NOT_FOUND");
      const loggedIn = await s.login.getLoginCode(s.codeFor("dave"));
      expect(loggedIn).toMatchObject({ userId: userA });
      expect(await s.login.unbind(userA)).toEqual({ success: true });
      expect(await codeOf(s.login.unbind(userA))).toBe("NOT_BOUND");
      expect(await s.login.getLoginCode(s.codeFor("dave"))).toEqual({ bindCode: expect.any(String), expiresIn: 300 });
    });

    // Regression: a login code minted before unbind still gave a token, and sessions opened
    // through the identity outlived the unbind.
    it("after unbind, refuses the login codes and ends the sessions issued through that identity", async () => {
      const s = await open();
      const userId = await s.createUser();
      await s.login.bind(userId, s.codeFor("kim"));
      const codes = [await s.login.getLoginCode(s.codeFor("kim")), await s.login.getLoginCode(s.codeFor("kim"))].map((r) => {
        if (!("loginCode" in r)) throw new Error("expected a login code");
        return r.loginCode;
      });
      const session = await s.authSvc.loginByCode(codes[0]!);
      expect(await s.login.unbind(userId)).toEqual({ success: true });
      expect(await codeOf(s.authSvc.getCurrentUser(session.token))).toBe("TOKEN_INVALID");
      expect(await codeOf(s.authSvc.loginByCode(codes[1]!))).toBe("LOGIN_CODE_INVALID");
    });

    it("refuses unregistered identities when registration is off", async () => {
      const s = await open({ allowRegister: 0 });
      expect(await codeOf(s.login.getLoginCode(s.codeFor("gina")))).toBe("USER_AUTH_MISS");
    });

    it("refuses every login while inactive", async () => {
      const s = await open({ isActive: false });
      expect(s.login.isActive).toBe(false);
      expect(await codeOf(s.login.getLoginCode(s.codeFor("hank")))).toBe("LOGIN_TYPE_INACTIVE");
    });

    it("validates its arguments and names the bad one", async () => {
      const s = await open();
      const bad = [
        s.login.getLoginCode(""),
        s.login.getLoginCode("x".repeat(257)),
        s.login.register(42 as unknown as string),
        s.login.bind(0, "code"),
        s.login.unbind(1.5),
      ];
      for (const p of bad) expect(await codeOf(p)).toBe("ARGUMENT_INVALID");
      await expect(s.login.getLoginCode("")).rejects.toThrow(/argument code of getLoginCode/);
      await expect(s.login.bind(-1, "c")).rejects.toThrow(/argument userId of bind/);
    });
  });
}
