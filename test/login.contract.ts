import { afterEach, describe, expect, it } from "vitest";
import type { ManualClock } from "../runtime/clock.ts";
import type { GetLoginCodeResult, LoginTypeApi, RegisteredUser } from "../elements/auths/loginTypes/Meta/types.ts";
import type { AuthService } from "../elements/auths/loginTypes/services/AuthSvc/index.ts";

/** What every login Type exposes (the Meta's interface). */
export type ContractLogin = LoginTypeApi;

/**
 * A login Type under the contract. Each Type takes its own credentials, so the subject says
 * how to register, log in and bind an identity named `who`, and which error codes the Type
 * answers where the Types differ.
 */
export interface ContractSubject {
  login: Pick<LoginTypeApi, "authType" | "allowRegister" | "isActive" | "getLoginConfig" | "unbind">;
  authSvc: AuthService;
  clock: ManualClock;
  /** Words that must never appear in any result or error (credentials of the Type's config). */
  secrets: string[];
  /** Creates a user with no identity in this Type, returns its id. */
  createUser(): Promise<number>;
  /** Registers the new identity `who` the Type's way; register()'s answer as JSON. */
  register(who: string): Promise<RegisteredUser>;
  /** getLoginCode with the credentials of identity `who`. */
  logIn(who: string): Promise<GetLoginCodeResult>;
  /** bind(userId, …credentials of `who`). */
  bind(userId: number, who: string): Promise<unknown>;
  /** Calls with a malformed argument, each to be refused with ARGUMENT_INVALID, and one message to match. */
  badCalls(): { calls: Promise<unknown>[]; named: [Promise<unknown>, RegExp] };
  errors: {
    /** getLoginCode of an unknown identity with allowRegister 0. */
    unregistered: string;
    /** register with allowRegister 0. */
    registrationClosed: string;
    /** bind of a user who already has an identity in this Type. */
    userBound: string;
    /** bind of an identity that belongs to another user. */
    identityTaken: string;
    /** unbind of a user without an identity in this Type. */
    notBound: string;
  };
  /** Types whose credential is a one-time client code (WeChat): that code for `who`. */
  codeFor?(who: string): string;
  cleanup(): Promise<void>;
}

export interface ContractOptions {
  allowRegister?: 0 | 1;
  isActive?: boolean;
}

const FIVE_MINUTES = 300_000;

/** The code of the error a promise rejects with ("no error" when it resolves). */
export async function codeOf(promise: Promise<unknown>): Promise<string> {
  try {
    await promise;
  } catch (err) {
    return (err as { code?: string }).code ?? `uncoded: ${String(err)}`;
  }
  return "no error";
}

/**
 * The login contract: every login Type must pass it (ARCHITECTURE.md, "Conventions"). `make` builds a fresh
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

    it("registers a new identity, whose answer carries a login code; loginByCode opens a session", async () => {
      const s = await open();
      const user = await s.register("alice");
      expect(user.userId).toBeGreaterThan(0);
      // register hands the registering client its login code: no second step needed.
      expect(user).toMatchObject({ loginCode: expect.any(String), expiresIn: 300, corpList: [{ corpId: "contract-corp", corpName: "contract-corp" }] });
      const session = await s.authSvc.loginByCode(user.loginCode);
      expect(session.userId).toBe(user.userId);
      expect((await s.authSvc.getCurrentUser(session.token)).userId).toBe(user.userId);
      expect(await s.authSvc.logout(session.token)).toEqual({ success: true });
      expect(await codeOf(s.authSvc.getCurrentUser(session.token))).toBe("TOKEN_INVALID");

      // A later login answers exactly the shared shape.
      const second = await s.logIn("alice");
      expect(second).toEqual({ loginCode: expect.any(String), corpList: [{ corpId: "contract-corp", corpName: "contract-corp" }], userId: user.userId, expiresIn: 300 });
      if (!("loginCode" in second)) throw new Error("unreachable");
      expect((await s.authSvc.loginByCode(second.loginCode)).userId).toBe(user.userId);
    });

    it("makes login codes single-use and valid for 5 minutes", async () => {
      const s = await open();
      const user = await s.register("bob");
      await s.authSvc.loginByCode(user.loginCode);
      expect(await codeOf(s.authSvc.loginByCode(user.loginCode))).toBe("LOGIN_CODE_INVALID");
      const c = await s.logIn("bob");
      if (!("loginCode" in c)) throw new Error("expected a login code");
      await s.authSvc.loginByCode(c.loginCode);
      expect(await codeOf(s.authSvc.loginByCode(c.loginCode))).toBe("LOGIN_CODE_INVALID");
      const d = await s.logIn("bob");
      if (!("loginCode" in d)) throw new Error("expected a login code");
      s.clock.advance(FIVE_MINUTES);
      expect(await codeOf(s.authSvc.loginByCode(d.loginCode))).toBe("LOGIN_CODE_EXPIRED");
      expect(await codeOf(s.authSvc.loginByCode(d.loginCode))).toBe("LOGIN_CODE_INVALID");
    });

    it("binds and unbinds existing users with the documented conflicts", async () => {
      const s = await open();
      const userA = await s.createUser();
      const userB = await s.createUser();
      expect(await s.bind(userA, "dave")).toMatchObject({ success: true, userId: userA });
      expect(await codeOf(s.bind(userA, "erin"))).toBe(s.errors.userBound);
      expect(await codeOf(s.bind(userB, "dave"))).toBe(s.errors.identityTaken);
      expect(await codeOf(s.bind(999_999, "frank"))).toBe("USER_NOT_FOUND");
      expect(await s.logIn("dave")).toMatchObject({ userId: userA, loginCode: expect.any(String) });
      expect(await s.login.unbind(userA)).toEqual({ success: true });
      expect(await codeOf(s.login.unbind(userA))).toBe(s.errors.notBound);
      // The identity no longer leads to the user.
      const after = await s.logIn("dave").catch((err: { code?: string }) => err.code);
      expect(after).not.toMatchObject({ loginCode: expect.anything() });
    });

    // Regression: a login code minted before unbind still gave a token, and sessions opened
    // through the identity outlived the unbind.
    it("after unbind, refuses the login codes and ends the sessions issued through that identity", async () => {
      const s = await open();
      const userId = await s.createUser();
      await s.bind(userId, "kim");
      const codes = [await s.logIn("kim"), await s.logIn("kim")].map((r) => {
        if (!("loginCode" in r)) throw new Error("expected a login code");
        return r.loginCode;
      });
      const session = await s.authSvc.loginByCode(codes[0]!);
      expect(await s.login.unbind(userId)).toEqual({ success: true });
      expect(await codeOf(s.authSvc.getCurrentUser(session.token))).toBe("TOKEN_INVALID");
      expect(await codeOf(s.authSvc.loginByCode(codes[1]!))).toBe("LOGIN_CODE_INVALID");
    });

    it("refuses unregistered identities and registration when registration is off", async () => {
      const s = await open({ allowRegister: 0 });
      expect(await codeOf(s.logIn("gina"))).toBe(s.errors.unregistered);
      expect(await codeOf(s.register("gina"))).toBe(s.errors.registrationClosed);
    });

    it("refuses every login while inactive", async () => {
      const s = await open({ isActive: false });
      expect(s.login.isActive).toBe(false);
      expect(await codeOf(s.logIn("hank"))).toBe("LOGIN_TYPE_INACTIVE");
    });

    it("validates its arguments and names the bad one", async () => {
      const s = await open();
      const { calls, named } = s.badCalls();
      for (const p of calls) expect(await codeOf(p)).toBe("ARGUMENT_INVALID");
      await expect(named[0]).rejects.toThrow(named[1]);
      await expect(s.login.unbind(1.5)).rejects.toThrow(/argument userId of unbind/);
    });
  });
}

/**
 * The part of the contract for Types whose credential is a one-time client code (WeChat's
 * wx.login code): a code answers once, and its bind code is single use and short-lived.
 */
export function describeClientCodeContract(
  name: string,
  make: (options: ContractOptions) => Promise<ContractSubject & { login: ContractLogin; codeFor(who: string): string }>,
): void {
  describe(`client-code contract: ${name}`, () => {
    let subject: Awaited<ReturnType<typeof make>> | undefined;
    const open = async (options: ContractOptions = {}) => (subject = await make({ allowRegister: 1, ...options }));
    afterEach(async () => {
      await subject?.cleanup();
      subject = undefined;
    });

    it("answers a new identity with a bind code, which register spends", async () => {
      const s = await open();
      const first = await s.login.getLoginCode(s.codeFor("alice"));
      expect(first).toEqual({ bindCode: expect.any(String), expiresIn: 300 });
      if (!("bindCode" in first)) throw new Error("unreachable");
      const user = await s.login.register(first.bindCode);
      expect(JSON.parse(JSON.stringify(user))).toMatchObject({ userId: user.userId.value, loginCode: expect.any(String), expiresIn: 300 });
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

    it("makes bind codes single-use and valid for 5 minutes", async () => {
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
    });

    it("a repeated code of a registered user gets the same login code, concurrent or later; it opens one session", async () => {
      const s = await open();
      await s.register("gina");
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
  });
}
