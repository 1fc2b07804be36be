import { afterEach, describe, expect, it, vi } from "vitest";
import { runWithCallContext } from "../runtime/context/callContext.ts";
import { hashPassword, needsRehash, verifyPassword } from "../elements/auths/loginTypes/PasswordType/passwordHash.ts";
import { commonPasswords } from "../elements/auths/loginTypes/PasswordType/policy.ts";
import { codeOf, describeLoginContract, type ContractOptions } from "./login.contract.ts";
import type { PasswordLogin } from "../elements/auths/loginTypes/PasswordType/index.ts";
import { contractPasswordOf, makeLoginApp, passwordContractSubject, type LoginFixture, type PasswordInstanceSpec } from "./helpers/loginFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

const passwordOf = contractPasswordOf;

// The login contract, run against PasswordType: the same suite as WeChatMiniType's, with a
// username and password as the identity's credentials.
describeLoginContract("PasswordType", async (options) =>
  passwordContractSubject(await makeLoginApp({ passwords: [{ name: "testPasswordLogin", allowRegister: options.allowRegister, isActive: options.isActive, registerCorpId: "contract-corp" }] })),
);

describe("PasswordType", () => {
  let fx: LoginFixture | undefined;
  const open = async (spec: Partial<PasswordInstanceSpec> = {}) => (fx = await makeLoginApp({ passwords: [{ name: "pwLogin", registerCorpId: "acme", ...spec }] }));
  afterEach(async () => {
    await fx?.cleanup();
    fx = undefined;
  });

  it("takes 8 to 128 characters of anything, refuses common passwords (any case) and the username, with no composition rule", async () => {
    const login = (await open()).password();
    expect(await codeOf(login.register("user1", "seven77"))).toBe("PASSWORD_TOO_WEAK");
    expect(await codeOf(login.register("user1", "x".repeat(129)))).toBe("PASSWORD_TOO_WEAK");
    expect(await codeOf(login.register("user1", "PassWord123"))).toBe("PASSWORD_TOO_WEAK");
    expect(await codeOf(login.register("user1", "qwertyuiop"))).toBe("PASSWORD_TOO_WEAK");
    expect(await codeOf(login.register("longusername", "LongUserName"))).toBe("PASSWORD_TOO_WEAK");
    await expect(login.register("user1", "PassWord123")).rejects.toThrow(/most common passwords/);
    // No composition rule: lower-case letters only, or eight CJK characters, are fine.
    await login.register("user1", "xkcdhorsestaple");
    await login.register("user2", "密码密码密码密码");
    await login.register("user3", "y".repeat(128));
    expect(commonPasswords().size).toBeGreaterThan(10_000);
  });

  it("normalises usernames (NFKC, case-folded): one account per name however it is typed; 409 USERNAME_TAKEN", async () => {
    const login = (await open()).password();
    const user = await login.register("Ａｌｉｃｅ", passwordOf("alice"));
    expect(await login.getLoginCode("ALICE", passwordOf("alice"))).toMatchObject({ userId: user.userId.value });
    const taken = await login.register("alice", "another fine password").catch((err) => err);
    expect(taken).toMatchObject({ code: "USERNAME_TAKEN", status: 409 });
    expect(taken.message).not.toContain("alice");
  });

  it("stores a PHC scrypt hash with its parameters, and rehashes at login when the parameters were raised", async () => {
    const f = await open({ scrypt: { ln: 11, r: 8, p: 1 } });
    const login = f.password();
    const user = await login.register("rita", passwordOf("rita"));
    const store = await storeOf(f.app);
    const stored = (await store.findPasswordCredentialByUser(login.realm, user.userId.value))!.passwordHash;
    expect(stored).toMatch(/^\$scrypt\$ln=11,r=8,p=1\$[A-Za-z0-9+/]{22}\$[A-Za-z0-9+/]{43}$/);
    // A hash from before the parameters were raised:
    await store.updatePasswordHash(login.realm, user.userId.value, await hashPassword(passwordOf("rita"), { ln: 10, r: 8, p: 1 }), f.clock.now());
    await login.getLoginCode("rita", passwordOf("rita"));
    const after = (await store.findPasswordCredentialByUser(login.realm, user.userId.value))!.passwordHash;
    expect(after).toMatch(/^\$scrypt\$ln=11,r=8,p=1\$/);
    expect(await verifyPassword(passwordOf("rita"), after)).toBe(true);
    expect(await verifyPassword("not it at all", after)).toBe(false);
    expect(await verifyPassword(passwordOf("rita"), "$scrypt$garbage")).toBe(false);
    expect(needsRehash(after, { ln: 11, r: 8, p: 1 })).toBe(false);
    expect(needsRehash(after, { ln: 12, r: 8, p: 1 })).toBe(true);
  });

  // The property: an unknown username costs the same work (one scrypt against a dummy hash
  // with the configured parameters) as a wrong password, so timing does not tell them apart.
  // Without the dummy hash the unknown user answers after one index lookup, ten times faster.
  it("answers an unknown user and a wrong password alike, in the same time range (200 tries each)", async () => {
    const f = await open({ scrypt: { ln: 12, r: 8, p: 1 } });
    const login = f.password();
    await login.register("tim", passwordOf("tim"));
    const wrong: number[] = [];
    const unknown: number[] = [];
    const answers = new Set<string>();
    const time = async (into: number[], call: () => Promise<unknown>) => {
      const start = process.hrtime.bigint();
      const err = (await call().catch((e) => e)) as { code: string; message: string; status: number };
      into.push(Number(process.hrtime.bigint() - start) / 1e6);
      answers.add(JSON.stringify([err.code, err.status, err.message]));
    };
    await login.getLoginCode("nobody", "warm up the dummy").catch(() => {});
    for (let i = 0; i < 200; i++) {
      // Past every backoff window: this measures the check, not the lockout.
      f.clock.advance(2 * 3_600_000);
      // Alternate the order so a drift of the machine's load hits both alike.
      if (i % 2 === 0) {
        await time(wrong, () => login.getLoginCode("tim", `wrong ${i}`));
        await time(unknown, () => login.getLoginCode(`nobody${i}`, `wrong ${i}`));
      } else {
        await time(unknown, () => login.getLoginCode(`nobody${i}`, `wrong ${i}`));
        await time(wrong, () => login.getLoginCode("tim", `wrong ${i}`));
      }
    }
    expect([...answers]).toEqual([JSON.stringify(["CREDENTIALS_INVALID", 401, "username or password is wrong"])]);
    const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[xs.length >> 1]!;
    const ratio = median(unknown) / median(wrong);
    expect(ratio, `median unknown ${median(unknown).toFixed(2)} ms, wrong ${median(wrong).toFixed(2)} ms`).toBeGreaterThan(0.8);
    expect(ratio).toBeLessThan(1.25);
  }, 120_000);

  it("locks a username after 5 failures for 30 s, doubling to 15 min at most, the same for unknown names; the owner logs in once it ends", async () => {
    const f = await open();
    const login = f.password();
    await login.register("lena", passwordOf("lena"));
    for (let i = 0; i < 5; i++) expect(await codeOf(login.getLoginCode("lena", "wrong guess"))).toBe("CREDENTIALS_INVALID");
    const locked = await login.getLoginCode("lena", passwordOf("lena")).catch((e) => e);
    expect(locked).toMatchObject({ code: "LOGIN_LOCKED", status: 429, params: { retryAfter: 30 } });
    // An unknown name locks the same way, with the same answer: the lock tells nothing about existence.
    for (let i = 0; i < 5; i++) expect(await codeOf(login.getLoginCode("ghost", "wrong guess"))).toBe("CREDENTIALS_INVALID");
    const ghost = await login.getLoginCode("ghost", "wrong guess").catch((e) => e);
    expect([ghost.code, ghost.message]).toEqual([locked.code, locked.message]);
    // Attempts during the lock are refused without counting.
    for (let i = 0; i < 10; i++) await login.getLoginCode("lena", "wrong guess").catch(() => {});
    f.clock.advance(30_000);
    expect(await login.getLoginCode("lena", passwordOf("lena"))).toMatchObject({ loginCode: expect.any(String) });
    // A success clears the counter: the next failure is an ordinary one.
    expect(await codeOf(login.getLoginCode("lena", "wrong guess"))).toBe("CREDENTIALS_INVALID");
    expect(await codeOf(login.getLoginCode("lena", "wrong guess"))).toBe("CREDENTIALS_INVALID");
    // The backoff doubles per failure and stops at 15 minutes.
    let retryAfter = 0;
    for (let i = 0; i < 20; i++) {
      const err = await login.getLoginCode("ghost", "wrong guess").catch((e) => e);
      if (err.code === "LOGIN_LOCKED") {
        retryAfter = err.params.retryAfter;
        f.clock.advance(retryAfter * 1000);
      }
    }
    expect(retryAfter).toBe(900);
  });

  // Regression: the counters were in each process's memory, so N processes on one database
  // gave a guesser N times the free failures, and a restart forgot every lock.
  it("counts failures in the database: two processes on one file lock at the 5th failure between them, and the lock outlives a restart", async () => {
    const f = await open();
    await f.password().register("dora", passwordOf("dora"));
    const second = await f.openSecondApp(); // another App, store and connection on the same file, as a second process has
    const logins = [f.password(), second.getElement<PasswordLogin>("auths.loginTypes.pwLogin")];
    for (let i = 0; i < 5; i++) expect(await codeOf(logins[i % 2]!.getLoginCode("dora", `wrong guess ${i}`))).toBe("CREDENTIALS_INVALID");
    for (const login of logins) {
      expect(await login.getLoginCode("dora", passwordOf("dora")).catch((e) => e)).toMatchObject({ code: "LOGIN_LOCKED", params: { retryAfter: 30 } });
    }
    // Every process stops; a new one opens the file.
    await second.close();
    await f.app.close();
    const restarted = (await f.openSecondApp()).getElement<PasswordLogin>("auths.loginTypes.pwLogin");
    f.clock.advance(29_500);
    expect(await restarted.getLoginCode("dora", passwordOf("dora")).catch((e) => e)).toMatchObject({ code: "LOGIN_LOCKED", params: { retryAfter: 1 } });
    f.clock.advance(500);
    expect(await restarted.getLoginCode("dora", passwordOf("dora"))).toMatchObject({ loginCode: expect.any(String) });
  });

  it("locks an address after 50 failures across usernames (1 min, doubling); a success does not clear it", async () => {
    const f = await open();
    const login = f.password();
    await login.register("ada", passwordOf("ada"));
    const from = <T>(ip: string, fn: () => Promise<T>) => runWithCallContext({ via: "test", ip }, fn);
    const guesser = "203.0.113.7";
    for (let i = 0; i < 50; i++) expect(await codeOf(from(guesser, () => login.getLoginCode(`name${i}`, "wrong guess")))).toBe("CREDENTIALS_INVALID");
    expect(await from(guesser, () => login.getLoginCode("ada", passwordOf("ada"))).catch((e) => e)).toMatchObject({ code: "LOGIN_LOCKED", params: { retryAfter: 60 } });
    expect(await from("198.51.100.1", () => login.getLoginCode("ada", passwordOf("ada")))).toMatchObject({ loginCode: expect.any(String) });
    f.clock.advance(60_000);
    expect(await from(guesser, () => login.getLoginCode("ada", passwordOf("ada")))).toMatchObject({ loginCode: expect.any(String) });
    // The address's count went on: its next failure locks it for twice as long.
    expect(await codeOf(from(guesser, () => login.getLoginCode("someone", "wrong guess")))).toBe("CREDENTIALS_INVALID");
    expect(await from(guesser, () => login.getLoginCode("ada", passwordOf("ada"))).catch((e) => e)).toMatchObject({ code: "LOGIN_LOCKED", params: { retryAfter: 120 } });
  });

  it("a successful login writes nothing to the lockout unless the username had failures to clear", async () => {
    const f = await open();
    const login = f.password();
    await login.register("sam", passwordOf("sam"));
    const store = await storeOf(f.app);
    const record = vi.spyOn(store, "recordLoginFailure");
    const clear = vi.spyOn(store, "clearLoginFailures");
    await login.getLoginCode("sam", passwordOf("sam"));
    expect([record.mock.calls.length, clear.mock.calls.length]).toEqual([0, 0]);
    await login.getLoginCode("sam", "wrong guess").catch(() => {});
    await login.getLoginCode("sam", passwordOf("sam"));
    expect([record.mock.calls.length, clear.mock.calls.length]).toEqual([1, 1]);
    expect(clear.mock.calls[0]![0]).toHaveLength(2); // the username's two keys, not the address's
    await login.getLoginCode("sam", passwordOf("sam"));
    expect(clear.mock.calls.length).toBe(1);
  });

  it("updatePassword ends the user's other sessions, keeps the caller's, and needs the old password", async () => {
    const f = await open();
    const login = f.password();
    const authSvc = f.authSvc();
    const user = await login.register("uma", passwordOf("uma"));
    const mine = await authSvc.loginByCode(user.loginCode.value);
    const other = await login.getLoginCode("uma", passwordOf("uma"));
    const theirs = await authSvc.loginByCode(other.loginCode);
    const pending = await login.getLoginCode("uma", passwordOf("uma"));
    const asCaller = <T>(fn: () => Promise<T>) => runWithCallContext({ via: "test", userId: mine.userId, token: mine.token }, fn);
    expect(await codeOf(asCaller(() => login.updatePassword("not the old one", "a brand new password")))).toBe("CREDENTIALS_INVALID");
    expect(await codeOf(asCaller(() => login.updatePassword(passwordOf("uma"), "password1")))).toBe("PASSWORD_TOO_WEAK");
    expect((await authSvc.getCurrentUser(theirs.token)).userId).toBe(mine.userId);
    expect(await asCaller(() => login.updatePassword(passwordOf("uma"), "a brand new password"))).toEqual({ success: true });
    expect((await authSvc.getCurrentUser(mine.token)).userId).toBe(mine.userId);
    expect(await codeOf(authSvc.getCurrentUser(theirs.token))).toBe("TOKEN_INVALID");
    expect(await codeOf(authSvc.loginByCode(pending.loginCode))).toBe("LOGIN_CODE_INVALID");
    expect(await codeOf(login.getLoginCode("uma", passwordOf("uma")))).toBe("CREDENTIALS_INVALID");
    expect(await login.getLoginCode("uma", "a brand new password")).toMatchObject({ userId: mine.userId });
    // Without a logged-in caller there is no "other" session to speak of.
    expect(await codeOf(login.updatePassword("a brand new password", "another new password"))).toBe("LOGIN_REQUIRED");
    // `jit call --token` brings the token alone: the caller is found through it.
    const viaCli = <T>(token: string, fn: () => Promise<T>) => runWithCallContext({ via: "cli", token }, fn);
    expect(await codeOf(viaCli(theirs.token, () => login.updatePassword("a brand new password", "another new password")))).toBe("TOKEN_INVALID");
    expect(await viaCli(mine.token, () => login.updatePassword("a brand new password", "another new password"))).toEqual({ success: true });
    expect((await authSvc.getCurrentUser(mine.token)).userId).toBe(mine.userId);
  });
});
