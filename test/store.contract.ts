/**
 * The contract every Store implementation must pass (ARCHITECTURE.md, "Conventions"). Not a test file by
 * itself: an implementation's test file calls runStoreContract with a factory.
 */
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { hashToken, newSecretToken } from "../runtime/security/tokens.ts";
import type { LoginFailureRule, Store } from "../elements/auths/storage/Store.ts";

export type StoreFactory = () => Promise<{
  store: Store;
  cleanup(): Promise<void>;
  /**
   * Another store on the same database with connections of its own, as a second process
   * would open (closed by cleanup). The concurrency tests race the two.
   */
  openPeer?(): Promise<Store>;
}>;

const T0 = Date.UTC(2026, 0, 1);
const MIN = 60_000;
const APP = "wx-app-a";
const OTHER_APP = "wx-app-b";

const newHash = () => hashToken(newSecretToken());

export function runStoreContract(name: string, makeStore: StoreFactory): void {
  describe(`Store contract: ${name}`, () => {
    let store: Store;
    let cleanup: () => Promise<void>;
    let openPeer: (() => Promise<Store>) | undefined;

    beforeEach(async () => {
      ({ store, cleanup, openPeer } = await makeStore());
    });
    afterEach(async () => {
      await cleanup();
    });

    const bound = async (openId: string, unionId: string | null = null, app = APP, now = T0) => {
      const user = await store.createUser({ name: openId }, now);
      const binding = await store.createBinding({ appId: app, openId, unionId, userId: user.userId }, now);
      return { user, binding };
    };

    describe("health", () => {
      it("ping resolves while the store is open and rejects with STORE_CLOSED once it is closed", async () => {
        await expect(store.ping()).resolves.toBeUndefined();
        const user = await store.createUser({ name: "kept" }, T0);
        await store.ping();
        expect(await store.getUser(user.userId)).toEqual(user);
        await store.close();
        await expect(store.ping()).rejects.toMatchObject({ code: "STORE_CLOSED" });
      });
    });

    describe("users", () => {
      it("creates users with distinct ids and reads them back", async () => {
        const a = await store.createUser({ name: "Ann" }, T0);
        const b = await store.createUser({}, T0 + 1);
        expect(a).toEqual({ userId: expect.any(Number), name: "Ann", createdAt: T0 });
        expect(b.name).toBeNull();
        expect(b.userId).not.toBe(a.userId);
        expect(await store.getUser(a.userId)).toEqual(a);
        expect(await store.getUser(b.userId + 1000)).toBeNull();
      });

      it("joins the given organisation on creation, and refuses an unknown one", async () => {
        await store.upsertCorp({ corpId: "c1", corpName: "One" });
        const u = await store.createUser({ name: "x", corpId: "c1" }, T0);
        expect(await store.listUserCorps(u.userId)).toEqual([{ corpId: "c1", corpName: "One" }]);
        await expect(store.createUser({ corpId: "missing" }, T0)).rejects.toMatchObject({ code: expect.any(String) });
      });
    });

    describe("organisations", () => {
      it("upserts (creates then renames) and lists a user's organisations in joining order", async () => {
        const u = await store.createUser({}, T0);
        await store.upsertCorp({ corpId: "c2", corpName: "Two" });
        await store.upsertCorp({ corpId: "c1", corpName: "One" });
        await store.addCorpMember("c2", u.userId, T0);
        await store.addCorpMember("c1", u.userId, T0 + 1);
        await store.addCorpMember("c2", u.userId, T0 + 2); // idempotent
        await store.upsertCorp({ corpId: "c2", corpName: "Two renamed" });
        expect(await store.listUserCorps(u.userId)).toEqual([
          { corpId: "c2", corpName: "Two renamed" },
          { corpId: "c1", corpName: "One" },
        ]);
        expect(await store.listUserCorps(u.userId + 1000)).toEqual([]);
      });

      it("refuses a membership for an unknown user or organisation", async () => {
        const u = await store.createUser({}, T0);
        await store.upsertCorp({ corpId: "c1", corpName: "One" });
        await expect(store.addCorpMember("c1", u.userId + 1000, T0)).rejects.toMatchObject({ code: "USER_NOT_FOUND" });
        await expect(store.addCorpMember("nope", u.userId, T0)).rejects.toMatchObject({ code: expect.any(String) });
        expect(await store.listUserCorps(u.userId)).toEqual([]);
      });
    });

    describe("WeChat bindings", () => {
      it("creates a binding and finds it by openId and by user, per appId", async () => {
        const { user, binding } = await bound("o1", "u1");
        expect(binding).toEqual({ appId: APP, openId: "o1", unionId: "u1", userId: user.userId, createdAt: T0 });
        expect(await store.findBindingByOpenId(APP, "o1")).toEqual(binding);
        expect(await store.findBindingByUser(APP, user.userId)).toEqual(binding);
        expect(await store.findBindingByOpenId(OTHER_APP, "o1")).toBeNull();
        expect(await store.findBindingByUser(OTHER_APP, user.userId)).toBeNull();
        // The same user may hold one identity per mini program.
        const other = await store.createBinding({ appId: OTHER_APP, openId: "o1-b", unionId: "u1", userId: user.userId }, T0);
        expect(await store.findBindingByUser(OTHER_APP, user.userId)).toEqual(other);
      });

      it("refuses an openId already bound to another user: WECHAT_ALREADY_BOUND", async () => {
        await bound("o1");
        const u2 = await store.createUser({}, T0);
        const attempt = store.createBinding({ appId: APP, openId: "o1", unionId: null, userId: u2.userId }, T0);
        await expect(attempt).rejects.toMatchObject({ code: "WECHAT_ALREADY_BOUND", params: { appId: APP } });
        expect(await store.findBindingByUser(APP, u2.userId)).toBeNull();
      });

      it("refuses a second identity for a user in one mini program: ALREADY_BOUND", async () => {
        const { user } = await bound("o1");
        const attempt = store.createBinding({ appId: APP, openId: "o2", unionId: null, userId: user.userId }, T0);
        await expect(attempt).rejects.toMatchObject({ code: "ALREADY_BOUND", params: { userId: user.userId, appId: APP } });
        expect(await store.findBindingByOpenId(APP, "o2")).toBeNull();
      });

      it("refuses a binding for an unknown user: USER_NOT_FOUND", async () => {
        const attempt = store.createBinding({ appId: APP, openId: "o9", unionId: null, userId: 987654 }, T0);
        await expect(attempt).rejects.toMatchObject({ code: "USER_NOT_FOUND", params: { userId: 987654 } });
        expect(await store.findBindingByOpenId(APP, "o9")).toBeNull();
      });

      it("finds the user of a unionId across mini programs, oldest binding first", async () => {
        const first = await bound("oa", "union-1", APP, T0);
        const u2 = await store.createUser({}, T0);
        await store.createBinding({ appId: OTHER_APP, openId: "ob", unionId: "union-1", userId: u2.userId }, T0 + MIN);
        await bound("oc", null);
        expect(await store.findUserIdByUnionId("union-1")).toBe(first.user.userId);
        expect(await store.findUserIdByUnionId("union-unknown")).toBeNull();
      });

      it("deletes a binding so the identity can be bound again", async () => {
        const { user } = await bound("o1");
        expect(await store.deleteBinding(APP, user.userId, T0)).toBe(true);
        expect(await store.deleteBinding(APP, user.userId, T0)).toBe(false);
        expect(await store.findBindingByOpenId(APP, "o1")).toBeNull();
        const u2 = await store.createUser({}, T0);
        await store.createBinding({ appId: APP, openId: "o1", unionId: null, userId: u2.userId }, T0);
        expect((await store.findBindingByOpenId(APP, "o1"))?.userId).toBe(u2.userId);
      });

      it("marks an unbound identity per (appId, openId) until it is bound again", async () => {
        const { user } = await bound("o1", "u1");
        await store.createBinding({ appId: OTHER_APP, openId: "o1", unionId: "u1", userId: user.userId }, T0);
        expect(await store.wasUnbound(APP, "o1")).toBe(false);
        expect(await store.deleteBinding(APP, user.userId, T0 + MIN)).toBe(true);
        expect(await store.wasUnbound(APP, "o1")).toBe(true);
        expect(await store.wasUnbound(OTHER_APP, "o1")).toBe(false); // per mini program
        expect(await store.wasUnbound(APP, "o2")).toBe(false);
        // Nothing to delete leaves no mark.
        const lone = await store.createUser({}, T0);
        expect(await store.deleteBinding(APP, lone.userId, T0)).toBe(false);
        expect(await store.findBindingByUser(APP, lone.userId)).toBeNull();
        // An explicit bind clears the mark, whoever the user.
        await store.createBinding({ appId: APP, openId: "o1", unionId: "u1", userId: lone.userId }, T0 + 2 * MIN);
        expect(await store.wasUnbound(APP, "o1")).toBe(false);
      });

      it("keeps the mark when the re-bind fails", async () => {
        const { user } = await bound("o1");
        const other = await bound("o2");
        await store.deleteBinding(APP, user.userId, T0);
        // other already holds an identity in APP: the bind fails and the mark stays.
        await expect(store.createBinding({ appId: APP, openId: "o1", unionId: null, userId: other.user.userId }, T0)).rejects.toMatchObject({
          code: "ALREADY_BOUND",
        });
        expect(await store.wasUnbound(APP, "o1")).toBe(true);
      });
    });

    describe("single-use codes", () => {
      const bindCode = { appId: APP, openId: "o-code", unionId: "u-code", expiresAt: T0 + 5 * MIN };

      it("consumes a bind code once: ok, then invalid", async () => {
        const h = newHash();
        await store.saveBindCode(h, bindCode, T0);
        expect(await store.consumeCode("bind", h, T0 + MIN)).toEqual({ status: "ok", record: bindCode });
        expect(await store.consumeCode("bind", h, T0 + MIN)).toEqual({ status: "invalid" });
      });

      it("reports an expired bind code once and spends it", async () => {
        const h = newHash();
        await store.saveBindCode(h, bindCode, T0);
        expect(await store.consumeCode("bind", h, bindCode.expiresAt)).toEqual({ status: "expired", record: bindCode });
        expect(await store.consumeCode("bind", h, T0)).toEqual({ status: "invalid" });
      });

      it("reports unknown codes as invalid and keeps bind and login codes apart", async () => {
        expect(await store.consumeCode("bind", newHash(), T0)).toEqual({ status: "invalid" });
        expect(await store.consumeCode("login", newHash(), T0)).toEqual({ status: "invalid" });
        const h = newHash();
        await store.saveBindCode(h, bindCode, T0);
        expect(await store.consumeCode("login", h, T0)).toEqual({ status: "invalid" });
        expect((await store.consumeCode("bind", h, T0)).status).toBe("ok");
      });

      it("consumes a login code once, and reports expiry", async () => {
        const u = await store.createUser({}, T0);
        const live = { appId: APP, userId: u.userId, expiresAt: T0 + 5 * MIN, origin: null };
        const h1 = newHash();
        const h2 = newHash();
        await store.saveLoginCode(h1, live, T0);
        await store.saveLoginCode(h2, live, T0);
        expect(await store.consumeCode("login", h1, T0 + 5 * MIN - 1)).toEqual({ status: "ok", record: live });
        expect(await store.consumeCode("login", h1, T0)).toEqual({ status: "invalid" });
        expect(await store.consumeCode("login", h2, T0 + 5 * MIN)).toEqual({ status: "expired", record: live });
        expect(await store.consumeCode("login", h2, T0)).toEqual({ status: "invalid" });
      });

      it("refuses a login code for an unknown user", async () => {
        const attempt = store.saveLoginCode(newHash(), { appId: APP, userId: 424242, expiresAt: T0 + MIN }, T0);
        await expect(attempt).rejects.toMatchObject({ code: "USER_NOT_FOUND" });
      });
    });

    describe("redeemBindCode", () => {
      const code = (openId: string, expiresAt = T0 + 5 * MIN) => ({ appId: APP, openId, unionId: `u-${openId}`, expiresAt });

      it("creates the user, the binding and the membership in one go", async () => {
        const h = newHash();
        await store.saveBindCode(h, code("o-new"), T0);
        const result = await store.redeemBindCode(h, T0 + MIN, { appId: APP, corp: { corpId: "c1", corpName: "One" }, name: "Neo" });
        if (result.status !== "ok") throw new Error(`expected ok, got ${result.status}`);
        expect(result.user).toEqual({ userId: expect.any(Number), name: "Neo", createdAt: T0 + MIN });
        expect(result.binding).toEqual({ appId: APP, openId: "o-new", unionId: "u-o-new", userId: result.user.userId, createdAt: T0 + MIN });
        expect(await store.getUser(result.user.userId)).toEqual(result.user);
        expect(await store.findBindingByOpenId(APP, "o-new")).toEqual(result.binding);
        expect(await store.listUserCorps(result.user.userId)).toEqual([{ corpId: "c1", corpName: "One" }]);
        expect(await store.redeemBindCode(h, T0 + MIN, { appId: APP })).toEqual({ status: "invalid" });
      });

      it("clears the unbound mark of the identity it binds", async () => {
        const { user } = await bound("o-back");
        await store.deleteBinding(APP, user.userId, T0);
        expect(await store.wasUnbound(APP, "o-back")).toBe(true);
        // An expired code binds nothing and leaves the mark.
        const late = newHash();
        await store.saveBindCode(late, code("o-back", T0 + MIN), T0);
        expect(await store.redeemBindCode(late, T0 + MIN, { appId: APP })).toEqual({ status: "expired" });
        expect(await store.wasUnbound(APP, "o-back")).toBe(true);
        const h = newHash();
        await store.saveBindCode(h, code("o-back"), T0);
        expect((await store.redeemBindCode(h, T0 + MIN, { appId: APP })).status).toBe("ok");
        expect(await store.wasUnbound(APP, "o-back")).toBe(false);
      });

      it("works without an organisation", async () => {
        const h = newHash();
        await store.saveBindCode(h, code("o-solo"), T0);
        const result = await store.redeemBindCode(h, T0, { appId: APP });
        expect(result.status).toBe("ok");
        if (result.status === "ok") expect(await store.listUserCorps(result.user.userId)).toEqual([]);
      });

      it("reports invalid and expired codes without creating anything; an expired code is spent", async () => {
        expect(await store.redeemBindCode(newHash(), T0, { appId: APP })).toEqual({ status: "invalid" });
        const h = newHash();
        await store.saveBindCode(h, code("o-late", T0 + MIN), T0);
        expect(await store.redeemBindCode(h, T0 + MIN, { appId: APP })).toEqual({ status: "expired" });
        expect(await store.findBindingByOpenId(APP, "o-late")).toBeNull();
        expect(await store.redeemBindCode(h, T0, { appId: APP })).toEqual({ status: "invalid" });
      });

      it("rolls back on a binding conflict: WECHAT_ALREADY_BOUND, no user, code still unused", async () => {
        const h = newHash();
        await store.saveBindCode(h, code("o-taken"), T0);
        const { user: owner } = await bound("o-taken");
        const before = await store.createUser({}, T0);
        await expect(store.redeemBindCode(h, T0, { appId: APP, corp: { corpId: "c-rb", corpName: "Rolled back" } })).rejects.toMatchObject({
          code: "WECHAT_ALREADY_BOUND",
        });
        const after = await store.createUser({}, T0);
        // Ids grow; any id the failed redeem may have drawn between the two holds no user.
        expect(after.userId).toBeGreaterThan(before.userId);
        for (let id = before.userId + 1; id < after.userId; id++) expect(await store.getUser(id)).toBeNull();
        expect((await store.findBindingByOpenId(APP, "o-taken"))?.userId).toBe(owner.userId);
        expect(await store.consumeCode("bind", h, T0)).toMatchObject({ status: "ok" });
      });

      it("refuses a code minted for another mini program and leaves it unused for its own", async () => {
        const h = newHash();
        await store.saveBindCode(h, code("o-foreign"), T0);
        expect(await store.redeemBindCode(h, T0, { appId: "wx-some-other-app" })).toEqual({ status: "invalid" });
        expect(await store.findBindingByOpenId(APP, "o-foreign")).toBeNull();
        expect((await store.redeemBindCode(h, T0, { appId: APP })).status).toBe("ok");
      });

      it("creates exactly one user when redeemed concurrently", async () => {
        const h = newHash();
        await store.saveBindCode(h, code("o-race"), T0);
        const results = await Promise.all(Array.from({ length: 20 }, () => store.redeemBindCode(h, T0, { appId: APP })));
        expect(results.filter((r) => r.status === "ok")).toHaveLength(1);
        expect(results.filter((r) => r.status === "invalid")).toHaveLength(19);
      });
    });

    describe("login sessions", () => {
      it("returns a live session, hides it at expiry, and deletes it once", async () => {
        const u = await store.createUser({}, T0);
        const h = newHash();
        await store.createSession(h, { userId: u.userId, corpId: "c1", expiresAt: T0 + 60 * MIN }, T0);
        expect(await store.getSession(h, T0 + MIN)).toEqual({ userId: u.userId, corpId: "c1", createdAt: T0, expiresAt: T0 + 60 * MIN, origin: null });
        expect(await store.getSession(h, T0 + 60 * MIN)).toBeNull();
        expect(await store.getSession(newHash(), T0)).toBeNull();
        expect(await store.deleteSession(h)).toBe(true);
        expect(await store.deleteSession(h)).toBe(false);
        expect(await store.getSession(h, T0)).toBeNull();
      });

      it("keeps a null corpId and refuses an unknown user", async () => {
        const u = await store.createUser({}, T0);
        const h = newHash();
        await store.createSession(h, { userId: u.userId, corpId: null, expiresAt: T0 + MIN }, T0);
        expect((await store.getSession(h, T0))?.corpId).toBeNull();
        await expect(store.createSession(newHash(), { userId: 777777, corpId: null, expiresAt: T0 + MIN }, T0)).rejects.toMatchObject({
          code: "USER_NOT_FOUND",
        });
      });
    });

    describe("admin reads (console)", () => {
      it("pages users newest first with their bindings, organisations and live-session count", async () => {
        const a = await bound("adm-a", "union-a");
        const b = await bound("adm-b", null, OTHER_APP, T0 + 1);
        await store.upsertCorp({ corpId: "c1", corpName: "One" });
        await store.addCorpMember("c1", a.user.userId, T0);
        const c = await store.createUser({ name: "no-binding" }, T0 + 2);
        await store.createSession(newHash(), { userId: a.user.userId, corpId: "c1", expiresAt: T0 + 60 * MIN }, T0);
        await store.createSession(newHash(), { userId: a.user.userId, corpId: null, expiresAt: T0 + MIN }, T0);

        const first = await store.listUsers({ limit: 2 }, T0 + 2 * MIN);
        expect(first.total).toBe(3);
        expect(first.users.map((u) => u.user.userId)).toEqual([c.userId, b.user.userId]);
        expect(first.users[0]).toEqual({ user: c, bindings: [], corps: [], liveSessions: 0 });
        expect(first.users[1]!.bindings).toEqual([b.binding]);
        const second = await store.listUsers({ limit: 2, offset: 2 }, T0 + 2 * MIN);
        expect(second.users).toEqual([{ user: a.user, bindings: [a.binding], corps: [{ corpId: "c1", corpName: "One" }], liveSessions: 1 }]);
        expect(second.total).toBe(3);
      });

      it("searches by userId, openId or unionId, exactly", async () => {
        const a = await bound("adm-s-a", "union-s");
        const b = await bound("adm-s-b");
        const ids = async (search: string) => (await store.listUsers({ search, limit: 10 }, T0)).users.map((u) => u.user.userId);
        expect(await ids(String(b.user.userId))).toEqual([b.user.userId]);
        expect(await ids("adm-s-a")).toEqual([a.user.userId]);
        expect(await ids("union-s")).toEqual([a.user.userId]);
        expect(await ids("adm-s")).toEqual([]);
        expect(await ids("no-such")).toEqual([]);
        expect((await store.listUsers({ search: "nobody", limit: 10 }, T0)).total).toBe(0);
      });

      it("lists a user's live sessions by an id that is not the token, and ends one", async () => {
        const u = await store.createUser({}, T0);
        const other = await store.createUser({}, T0);
        const h1 = newHash();
        const h2 = newHash();
        await store.createSession(h1, { userId: u.userId, corpId: null, expiresAt: T0 + 60 * MIN }, T0);
        await store.createSession(h2, { userId: u.userId, corpId: "c9", expiresAt: T0 + 60 * MIN }, T0 + 1);
        await store.createSession(newHash(), { userId: u.userId, corpId: null, expiresAt: T0 + MIN }, T0);
        const sessions = await store.listUserSessions(u.userId, T0 + 2 * MIN);
        expect(sessions).toEqual([
          { sessionId: h2.slice(0, 16), userId: u.userId, corpId: "c9", createdAt: T0 + 1, expiresAt: T0 + 60 * MIN },
          { sessionId: h1.slice(0, 16), userId: u.userId, corpId: null, createdAt: T0, expiresAt: T0 + 60 * MIN },
        ]);
        // Another user's id cannot end it; a malformed id ends nothing.
        expect(await store.deleteUserSession(other.userId, h1.slice(0, 16))).toBe(false);
        expect(await store.deleteUserSession(u.userId, "%")).toBe(false);
        expect(await store.deleteUserSession(u.userId, h1.slice(0, 16))).toBe(true);
        expect(await store.deleteUserSession(u.userId, h1.slice(0, 16))).toBe(false);
        expect(await store.getSession(h1, T0)).toBeNull();
        expect(await store.getSession(h2, T0)).not.toBeNull();
      });
    });

    describe("login origin (which login Type and identity issued a code or opened a session)", () => {
      const origin = (openId: string, appId = APP) => ({ loginType: "auths.loginTypes.mini", appId, openId });

      it("keeps a login code's origin and hands it back when the code is consumed", async () => {
        const u = await store.createUser({}, T0);
        const h = newHash();
        const record = { appId: APP, userId: u.userId, expiresAt: T0 + MIN, origin: origin("o1") };
        await store.saveLoginCode(h, record, T0);
        expect(await store.consumeCode("login", h, T0)).toEqual({ status: "ok", record });
        // An origin in another mini program than the code's is refused, not stored half.
        const foreign = newHash();
        await expect(store.saveLoginCode(foreign, { ...record, origin: origin("o1", OTHER_APP) }, T0)).rejects.toMatchObject({ code: "ARGUMENT_INVALID" });
        expect(await store.consumeCode("login", foreign, T0)).toEqual({ status: "invalid" });
      });

      it("keeps a session's origin", async () => {
        const u = await store.createUser({}, T0);
        const h = newHash();
        await store.createSession(h, { userId: u.userId, corpId: null, expiresAt: T0 + MIN, origin: origin("o1") }, T0);
        expect(await store.getSession(h, T0)).toEqual({ userId: u.userId, corpId: null, createdAt: T0, expiresAt: T0 + MIN, origin: origin("o1") });
      });

      // Regression: a login code minted before unbind still opened a session, and sessions
      // opened through the identity outlived its unbind.
      it("deleteBinding voids the identity's unused login codes and ends its sessions; other identities keep theirs", async () => {
        const { user } = await bound("o-gone");
        await store.createBinding({ appId: OTHER_APP, openId: "o-kept", unionId: null, userId: user.userId }, T0);
        const code = (o: { loginType: string; appId: string; openId: string } | null) => ({
          appId: o?.appId ?? APP,
          userId: user.userId,
          expiresAt: T0 + 5 * MIN,
          origin: o,
        });
        const [cGone, cUsed, cKept, cNoOrigin] = [newHash(), newHash(), newHash(), newHash()];
        await store.saveLoginCode(cGone, code(origin("o-gone")), T0);
        await store.saveLoginCode(cUsed, code(origin("o-gone")), T0);
        await store.consumeCode("login", cUsed, T0);
        await store.saveLoginCode(cKept, code(origin("o-kept", OTHER_APP)), T0);
        await store.saveLoginCode(cNoOrigin, code(null), T0);
        const session = (o: ReturnType<typeof origin> | null) => ({ userId: user.userId, corpId: null, expiresAt: T0 + 60 * MIN, origin: o });
        const [sGone, sKept, sNoOrigin] = [newHash(), newHash(), newHash()];
        await store.createSession(sGone, session(origin("o-gone")), T0);
        await store.createSession(sKept, session(origin("o-kept", OTHER_APP)), T0);
        await store.createSession(sNoOrigin, session(null), T0);

        expect(await store.deleteBinding(APP, user.userId, T0 + MIN)).toBe(true);
        expect(await store.consumeCode("login", cGone, T0 + MIN)).toEqual({ status: "invalid" });
        expect(await store.getSession(sGone, T0 + MIN)).toBeNull();
        expect(await store.deleteSession(sGone)).toBe(false);
        expect((await store.consumeCode("login", cKept, T0 + MIN)).status).toBe("ok");
        expect(await store.getSession(sKept, T0 + MIN)).toMatchObject({ origin: origin("o-kept", OTHER_APP) });
        expect((await store.consumeCode("login", cNoOrigin, T0 + MIN)).status).toBe("ok");
        expect(await store.getSession(sNoOrigin, T0 + MIN)).not.toBeNull();
      });

      it("a failed deleteBinding (nothing bound) voids nothing", async () => {
        const u = await store.createUser({}, T0);
        const h = newHash();
        await store.saveLoginCode(h, { appId: APP, userId: u.userId, expiresAt: T0 + MIN, origin: origin("o-never") }, T0);
        expect(await store.deleteBinding(APP, u.userId, T0)).toBe(false);
        expect((await store.consumeCode("login", h, T0)).status).toBe("ok");
      });
    });

    describe("redeemBindCode with a login code", () => {
      const bindCode = (openId: string, expiresAt = T0 + 5 * MIN) => ({ appId: APP, openId, unionId: null, expiresAt });
      const loginCode = (expiresAt = T0 + 6 * MIN) => ({ hash: newHash(), expiresAt, loginType: "auths.loginTypes.mini" });

      it("saves the new user's login code in the same transaction, its origin the identity just bound", async () => {
        const h = newHash();
        await store.saveBindCode(h, bindCode("o-reg"), T0);
        const lc = loginCode();
        const result = await store.redeemBindCode(h, T0 + MIN, { appId: APP, loginCode: lc });
        if (result.status !== "ok") throw new Error(`expected ok, got ${result.status}`);
        expect(await store.consumeCode("login", lc.hash, T0 + MIN)).toEqual({
          status: "ok",
          record: { appId: APP, userId: result.user.userId, expiresAt: lc.expiresAt, origin: { loginType: lc.loginType, appId: APP, openId: "o-reg" } },
        });
      });

      it("saves no login code when nothing is registered (expired, foreign, conflict)", async () => {
        const expired = newHash();
        await store.saveBindCode(expired, bindCode("o-late", T0), T0);
        const l1 = loginCode();
        expect(await store.redeemBindCode(expired, T0, { appId: APP, loginCode: l1 })).toEqual({ status: "expired" });
        const foreign = newHash();
        await store.saveBindCode(foreign, bindCode("o-foreign"), T0);
        const l2 = loginCode();
        expect(await store.redeemBindCode(foreign, T0, { appId: OTHER_APP, loginCode: l2 })).toEqual({ status: "invalid" });
        const taken = newHash();
        await store.saveBindCode(taken, bindCode("o-taken"), T0);
        await bound("o-taken");
        const l3 = loginCode();
        await expect(store.redeemBindCode(taken, T0, { appId: APP, loginCode: l3 })).rejects.toMatchObject({ code: "WECHAT_ALREADY_BOUND" });
        for (const l of [l1, l2, l3]) expect(await store.consumeCode("login", l.hash, T0)).toEqual({ status: "invalid" });
      });
    });

    describe("redeemLoginCode", () => {
      const sessionFor = (corpId?: string | null) => ({ tokenHash: newHash(), expiresAt: T0 + 60 * MIN, ...(corpId === undefined ? {} : { corpId }) });
      const withCode = async (options: { corps?: string[]; expiresAt?: number } = {}) => {
        const { user } = await bound(`o-${newHash().slice(0, 12)}`);
        for (const corpId of options.corps ?? []) {
          await store.upsertCorp({ corpId, corpName: corpId.toUpperCase() });
          await store.addCorpMember(corpId, user.userId, T0);
        }
        const h = newHash();
        const origin = { loginType: "auths.loginTypes.mini", appId: APP, openId: "o-origin" };
        await store.saveLoginCode(h, { appId: APP, userId: user.userId, expiresAt: options.expiresAt ?? T0 + 5 * MIN, origin }, T0);
        return { userId: user.userId, h, origin };
      };

      it("spends the code and opens a session in the user's first corp, with the code's origin", async () => {
        const { userId, h, origin } = await withCode({ corps: ["c-first", "c-second"] });
        const s = sessionFor();
        const result = await store.redeemLoginCode(h, T0 + MIN, s);
        const session = { userId, corpId: "c-first", createdAt: T0 + MIN, expiresAt: s.expiresAt, origin };
        expect(result).toEqual({ status: "ok", session });
        expect(await store.getSession(s.tokenHash, T0 + MIN)).toEqual(session);
        expect(await store.redeemLoginCode(h, T0 + MIN, sessionFor())).toEqual({ status: "invalid" });
        expect(await store.consumeCode("login", h, T0 + MIN)).toEqual({ status: "invalid" });
      });

      it("opens a session in the corp asked for; a user without corps gets corpId null", async () => {
        const member = await withCode({ corps: ["c-a", "c-b"] });
        const s = sessionFor("c-b");
        expect(await store.redeemLoginCode(member.h, T0, s)).toMatchObject({ status: "ok", session: { corpId: "c-b" } });
        const loner = await withCode();
        expect(await store.redeemLoginCode(loner.h, T0, sessionFor(null))).toMatchObject({ status: "ok", session: { corpId: null } });
      });

      // Regression: a wrong corpId spent the code (CORP_NOT_MEMBER, then LOGIN_CODE_INVALID).
      it("answers not_member for a corp the user is not in, and keeps the code unused and opens nothing", async () => {
        const { h } = await withCode({ corps: ["c-mine"] });
        await store.upsertCorp({ corpId: "c-other", corpName: "Other" });
        const wrong = sessionFor("c-other");
        expect(await store.redeemLoginCode(h, T0, wrong)).toEqual({ status: "not_member" });
        expect(await store.redeemLoginCode(h, T0, sessionFor("c-unknown"))).toEqual({ status: "not_member" });
        expect(await store.getSession(wrong.tokenHash, T0)).toBeNull();
        expect(await store.redeemLoginCode(h, T0, sessionFor("c-mine"))).toMatchObject({ status: "ok", session: { corpId: "c-mine" } });
      });

      it("spends an expired code once, whatever the corp; unknown codes are invalid", async () => {
        const { h } = await withCode({ expiresAt: T0 + MIN });
        const s = sessionFor("c-none");
        expect(await store.redeemLoginCode(h, T0 + MIN, s)).toEqual({ status: "expired" });
        expect(await store.getSession(s.tokenHash, T0)).toBeNull();
        expect(await store.redeemLoginCode(h, T0, sessionFor())).toEqual({ status: "invalid" });
        expect(await store.redeemLoginCode(newHash(), T0, sessionFor("c-none"))).toEqual({ status: "invalid" });
      });

      it("opens exactly one session when redeemed concurrently, with or without a corp", async () => {
        const { h } = await withCode({ corps: ["c-race"] });
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => store.redeemLoginCode(h, T0, sessionFor(i % 2 ? "c-race" : null))));
        expect(results.filter((r) => r.status === "ok")).toHaveLength(1);
        expect(results.filter((r) => r.status === "invalid")).toHaveLength(19);
      });

      it("refuses a code voided by unbind", async () => {
        const { user } = await bound("o-unbound");
        const h = newHash();
        await store.saveLoginCode(h, { appId: APP, userId: user.userId, expiresAt: T0 + MIN, origin: { loginType: "t", appId: APP, openId: "o-unbound" } }, T0);
        await store.deleteBinding(APP, user.userId, T0);
        expect(await store.redeemLoginCode(h, T0, sessionFor())).toEqual({ status: "invalid" });
      });
    });

    describe("session keys", () => {
      it("keeps the newest sealed key per (appId, openId)", async () => {
        expect(await store.getSessionKey(APP, "o1")).toBeNull();
        await store.putSessionKey(APP, "o1", "sealed-1", T0);
        await store.putSessionKey(APP, "o1", "sealed-2", T0 + MIN);
        await store.putSessionKey(APP, "o1", "sealed-old", T0 + 1); // a late, older write loses
        await store.putSessionKey(OTHER_APP, "o1", "sealed-b", T0);
        expect(await store.getSessionKey(APP, "o1")).toEqual({ sealed: "sealed-2", updatedAt: T0 + MIN });
        expect(await store.getSessionKey(OTHER_APP, "o1")).toEqual({ sealed: "sealed-b", updatedAt: T0 });
      });
    });

    describe("rate windows", () => {
      it("counts hits per key in a fixed window, starts a new one after it, and purges ended ones", async () => {
        expect(await store.hitRateWindow("ip:1", MIN, T0)).toEqual({ count: 1, resetAt: T0 + MIN });
        expect(await store.hitRateWindow("ip:1", MIN, T0 + 10)).toEqual({ count: 2, resetAt: T0 + MIN });
        expect(await store.hitRateWindow("ip:2", MIN, T0 + 10)).toEqual({ count: 1, resetAt: T0 + 10 + MIN });
        expect(await store.hitRateWindow("ip:1", MIN, T0 + MIN)).toEqual({ count: 1, resetAt: T0 + 2 * MIN });
        expect(await store.purgeExpired(T0 + MIN + 10)).toMatchObject({ rateWindows: 1 });
      });

      it("40 concurrent hits over two stores on one database count 40", async () => {
        const stores = openPeer ? [store, await openPeer()] : [store];
        const counts = await Promise.all(Array.from({ length: 40 }, (_, i) => stores[i % stores.length]!.hitRateWindow("ip:race", MIN, T0)));
        expect(counts.map((c) => c.count).sort((a, b) => a - b)).toEqual(Array.from({ length: 40 }, (_, i) => i + 1));
      });
    });

    describe("login failures (the password lockout's backoff)", () => {
      const SEC = 1000;
      const rule = (key: string, over: Partial<LoginFailureRule> = {}): LoginFailureRule => ({ key, free: 3, baseMs: 30 * SEC, maxMs: 4 * MIN, forgetMs: 60 * MIN, ...over });
      const none = { lockedUntil: 0, failing: [] };

      it("failures below free do not lock; the free-th locks for baseMs; each later one doubles it up to maxMs", async () => {
        const k = newHash();
        expect(await store.loginFailureState([k], T0)).toEqual(none);
        expect(await store.recordLoginFailure([rule(k)], T0)).toBe(0);
        expect(await store.recordLoginFailure([rule(k)], T0 + 1)).toBe(0);
        expect(await store.loginFailureState([k], T0 + 2)).toEqual({ lockedUntil: 0, failing: [k] });
        expect(await store.recordLoginFailure([rule(k)], T0 + 2)).toBe(T0 + 2 + 30 * SEC);
        expect(await store.loginFailureState([k], T0 + 3)).toEqual({ lockedUntil: T0 + 2 + 30 * SEC, failing: [k] });
        // At its end the lock is over; the failures are still remembered.
        let at = T0 + 2 + 30 * SEC;
        expect(await store.loginFailureState([k], at)).toEqual({ lockedUntil: 0, failing: [k] });
        for (const seconds of [60, 120, 240, 240, 240]) {
          expect(await store.recordLoginFailure([rule(k)], at)).toBe(at + seconds * SEC);
          at += seconds * SEC;
        }
      });

      it("forgets a key forgetMs after its last failure, not before its lock ends; then it counts from nothing", async () => {
        const k = newHash();
        await store.recordLoginFailure([rule(k)], T0);
        await store.recordLoginFailure([rule(k)], T0 + MIN);
        expect(await store.loginFailureState([k], T0 + 61 * MIN - 1)).toEqual({ lockedUntil: 0, failing: [k] });
        expect(await store.loginFailureState([k], T0 + 61 * MIN)).toEqual(none);
        // Two forgotten failures and one new: no lock (it would be the third).
        expect(await store.recordLoginFailure([rule(k)], T0 + 61 * MIN)).toBe(0);

        // A lock longer than the memory: kept until it ends, then the key starts again.
        const long = newHash();
        const longRule = rule(long, { free: 1, baseMs: 20 * MIN, maxMs: 20 * MIN, forgetMs: 5 * MIN });
        expect(await store.recordLoginFailure([longRule], T0)).toBe(T0 + 20 * MIN);
        expect(await store.loginFailureState([long], T0 + 10 * MIN)).toEqual({ lockedUntil: T0 + 20 * MIN, failing: [long] });
        expect(await store.loginFailureState([long], T0 + 20 * MIN)).toEqual(none);
        expect(await store.recordLoginFailure([longRule], T0 + 20 * MIN)).toBe(T0 + 40 * MIN); // baseMs again, not doubled
      });

      it("counts each key under its own rule, answers the latest lock among them, and clears only the keys named", async () => {
        const [pair, user, other] = [newHash(), newHash(), newHash()];
        const rules = [rule(pair), rule(user, { free: 1, baseMs: MIN, maxMs: 10 * MIN })];
        expect(await store.recordLoginFailure(rules, T0)).toBe(T0 + MIN);
        const state = await store.loginFailureState([other, user, pair], T0 + 1);
        expect(state).toEqual({ lockedUntil: T0 + MIN, failing: [pair, user].sort() });
        await store.clearLoginFailures([user, other]);
        expect(await store.loginFailureState([pair, user, other], T0 + 1)).toEqual({ lockedUntil: 0, failing: [pair] });
        // The pair's count went on: two more failures lock it.
        expect(await store.recordLoginFailure([rule(pair)], T0 + 2)).toBe(0);
        expect(await store.recordLoginFailure([rule(pair)], T0 + 3)).toBe(T0 + 3 + 30 * SEC);
      });

      it("refuses keys that are not SHA-256 hashes, repeated keys, no keys and rules out of range: ARGUMENT_INVALID", async () => {
        const k = newHash();
        const refused = async (call: Promise<unknown>) => expect(await call.then(() => "accepted", (e: { code?: string }) => e.code)).toBe("ARGUMENT_INVALID");
        await refused(store.loginFailureState(["alice"], T0));
        await refused(store.loginFailureState([k.toUpperCase()], T0));
        await refused(store.loginFailureState([], T0));
        await refused(store.loginFailureState([k], -1));
        await refused(store.clearLoginFailures([k, k]));
        await refused(store.recordLoginFailure([rule(k), rule(k)], T0));
        await refused(store.recordLoginFailure([rule(k, { free: 0 })], T0));
        await refused(store.recordLoginFailure([rule(k, { baseMs: 1.5 })], T0));
        await refused(store.recordLoginFailure([rule(k, { maxMs: 2 ** 40 })], T0));
        await refused(store.recordLoginFailure([rule(k, { forgetMs: 0 })], T0));
        expect(await store.loginFailureState([k], T0)).toEqual(none);
      });

      it("concurrent failures over two stores on one database each count once (keys in any order)", async () => {
        const stores = openPeer ? [store, await openPeer()] : [store];
        const [a, b] = [newHash(), newHash()];
        // free 1, base 1 ms: after n failures the lock is 2^(n-1) ms, so it shows the count.
        const exact = (key: string) => rule(key, { free: 1, baseMs: 1, maxMs: 2 ** 30, forgetMs: MIN });
        const n = 24;
        await Promise.all(
          Array.from({ length: n }, (_, i) => stores[i % stores.length]!.recordLoginFailure(i % 3 === 0 ? [exact(b), exact(a)] : [exact(a), exact(b)], T0)),
        );
        expect(await store.loginFailureState([a], T0)).toEqual({ lockedUntil: T0 + 2 ** (n - 1), failing: [a] });
        expect(await stores.at(-1)!.loginFailureState([b], T0)).toEqual({ lockedUntil: T0 + 2 ** (n - 1), failing: [b] });
      });

      it("purgeExpired deletes the keys whose failures are forgotten and whose lock has ended, and only those", async () => {
        const [k, long, fresh] = [newHash(), newHash(), newHash()];
        await store.recordLoginFailure([rule(k)], T0);
        await store.recordLoginFailure([rule(long, { free: 1, baseMs: 90 * MIN, maxMs: 90 * MIN })], T0);
        await store.recordLoginFailure([rule(fresh)], T0 + 30 * MIN);
        expect(await store.purgeExpired(T0 + 60 * MIN - 1)).toMatchObject({ loginFailures: 0 });
        expect(await store.purgeExpired(T0 + 60 * MIN)).toMatchObject({ loginFailures: 1 });
        expect(await store.loginFailureState([k, long, fresh], T0 + 60 * MIN)).toEqual({ lockedUntil: T0 + 90 * MIN, failing: [long, fresh].sort() });
        expect(await store.purgeExpired(T0 + 90 * MIN)).toMatchObject({ loginFailures: 2 });
        expect(await store.purgeExpired(T0 + 90 * MIN)).toMatchObject({ loginFailures: 0 });
      });
    });

    describe("wx.login code ledger", () => {
      const claim = (use = "getLoginCode", at = T0) => ({ appId: APP, use, holder: newSecretToken(16), leaseUntil: at + 10_000, expiresAt: at + 5 * MIN });

      it("the first claim holds the code; a second sees it held by its use until settled, then the outcome", async () => {
        const h = newHash();
        const first = claim();
        expect(await store.claimWxCode(h, first, T0)).toEqual({ status: "claimed" });
        expect(await store.claimWxCode(h, claim(), T0 + 1)).toEqual({ status: "held", use: "getLoginCode", leaseUntil: T0 + 10_000 });
        expect(await store.settleWxCode(h, first.holder, { state: "answered", sealed: "v1.sealed" }, T0 + 5 * MIN)).toBe(true);
        expect(await store.claimWxCode(h, claim(), T0 + 2)).toEqual({ status: "answered", use: "getLoginCode", sealed: "v1.sealed" });
        expect(await store.claimWxCode(h, claim("bind:7"), T0 + 2)).toEqual({ status: "answered", use: "getLoginCode", sealed: "v1.sealed" });
        // Settled once: a second settle by the same holder changes nothing.
        expect(await store.settleWxCode(h, first.holder, { state: "spent" }, T0 + 5 * MIN)).toBe(false);
      });

      it("spent stays spent; open is taken again by the same use only", async () => {
        const [spent, open] = [newHash(), newHash()];
        const a = claim();
        await store.claimWxCode(spent, a, T0);
        await store.settleWxCode(spent, a.holder, { state: "spent" }, T0 + 5 * MIN);
        expect(await store.claimWxCode(spent, claim(), T0 + 1)).toEqual({ status: "spent", use: "getLoginCode" });
        const b = claim("bind:1");
        await store.claimWxCode(open, b, T0);
        await store.settleWxCode(open, b.holder, { state: "open" }, T0 + 5 * MIN);
        expect(await store.claimWxCode(open, claim("getLoginCode"), T0 + 1)).toEqual({ status: "open", use: "bind:1" });
        expect(await store.claimWxCode(open, claim("bind:1"), T0 + 1)).toEqual({ status: "claimed" });
      });

      it("a lease that ran out is taken over by the same use; the old holder can no longer settle", async () => {
        const h = newHash();
        const dead = claim();
        await store.claimWxCode(h, dead, T0);
        expect(await store.claimWxCode(h, claim("bind:1", T0 + 10_000), T0 + 10_000)).toMatchObject({ status: "held", use: "getLoginCode" });
        const next = claim("getLoginCode", T0 + 10_000);
        expect(await store.claimWxCode(h, next, T0 + 10_000)).toEqual({ status: "claimed" });
        expect(await store.settleWxCode(h, dead.holder, { state: "answered", sealed: "stale" }, T0 + 5 * MIN)).toBe(false);
        expect(await store.settleWxCode(h, next.holder, { state: "spent" }, T0 + 5 * MIN)).toBe(true);
      });

      it("an expired entry is forgotten: any use claims the code anew", async () => {
        const h = newHash();
        const a = claim();
        await store.claimWxCode(h, a, T0);
        await store.settleWxCode(h, a.holder, { state: "spent" }, T0 + MIN);
        expect(await store.claimWxCode(h, claim("bind:2", T0 + MIN), T0 + MIN)).toEqual({ status: "claimed" });
      });

      it("20 concurrent claims of one code over two stores on one database: exactly one claimed", async () => {
        const stores = openPeer ? [store, await openPeer()] : [store];
        const h = newHash();
        const states = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.claimWxCode(h, claim(), T0)));
        expect(states.filter((s) => s.status === "claimed")).toHaveLength(1);
        for (const s of states) if (s.status !== "claimed") expect(s).toMatchObject({ status: "held", use: "getLoginCode" });
      });
    });

    describe("phone numbers", () => {
      it("stores a user's number, finds the user by it, and refuses it for a second user (PHONE_TAKEN)", async () => {
        const a = await store.createUser({ name: "a" }, T0);
        const b = await store.createUser({ name: "b" }, T0);
        expect((await store.getUser(a.userId))?.phone).toBeUndefined();
        await store.setUserPhone(a.userId, "+8613800138000", T0);
        await store.setUserPhone(a.userId, "+8613800138000", T0 + 1); // the same again is fine
        expect((await store.getUser(a.userId))?.phone).toBe("+8613800138000");
        expect(await store.findUserIdByPhone("+8613800138000")).toBe(a.userId);
        await expect(store.setUserPhone(b.userId, "+8613800138000", T0)).rejects.toMatchObject({ code: "PHONE_TAKEN" });
        expect((await store.getUser(b.userId))?.phone).toBeUndefined();
        await expect(store.setUserPhone(987_654, "+15551234", T0)).rejects.toMatchObject({ code: "USER_NOT_FOUND" });
        expect(await store.findUserIdByPhone("+15551234")).toBeNull();
      });

      it("redeemBindCode with a phone stores it with the user; a taken number creates nothing and keeps the code", async () => {
        const h = newHash();
        await store.saveBindCode(h, { appId: APP, openId: "o-ph", unionId: null, expiresAt: T0 + 5 * MIN }, T0);
        const holder = await store.createUser({ name: "holder" }, T0);
        await store.setUserPhone(holder.userId, "+8613900000000", T0);
        await expect(store.redeemBindCode(h, T0 + MIN, { appId: APP, phone: "+8613900000000" })).rejects.toMatchObject({ code: "PHONE_TAKEN" });
        expect(await store.findBindingByOpenId(APP, "o-ph")).toBeNull();
        const result = await store.redeemBindCode(h, T0 + MIN, { appId: APP, phone: "+8613900000001" });
        if (result.status !== "ok") throw new Error(`expected ok, got ${result.status}`);
        expect(result.user.phone).toBe("+8613900000001");
        expect(await store.getUser(result.user.userId)).toEqual(result.user);
      });
    });

    describe("WeChat access tokens", () => {
      it("one lease at a time, only while no fresh token is stored; saving frees it", async () => {
        expect(await store.getAccessToken(APP)).toBeNull();
        const [first, second] = await Promise.all([
          store.claimAccessTokenFetch(APP, "p1", T0, T0 + MIN, T0),
          store.claimAccessTokenFetch(APP, "p2", T0, T0 + MIN, T0),
        ]);
        expect([first, second].filter(Boolean)).toHaveLength(1);
        const owner = first ? "p1" : "p2";
        expect(await store.getAccessToken(APP)).toEqual({ sealed: null, expiresAt: 0, leaseOwner: owner, leaseUntil: T0 + MIN });
        await store.saveAccessToken(APP, owner, "sealed-t1", T0 + 60 * MIN);
        expect(await store.getAccessToken(APP)).toEqual({ sealed: "sealed-t1", expiresAt: T0 + 60 * MIN, leaseOwner: null, leaseUntil: 0 });
        // Fresh token: no lease, however free.
        expect(await store.claimAccessTokenFetch(APP, "p3", T0 + MIN, T0 + 2 * MIN, T0 + MIN)).toBe(false);
        // Stale: the lease is taken again.
        expect(await store.claimAccessTokenFetch(APP, "p3", T0 + 60 * MIN, T0 + 61 * MIN, T0 + 60 * MIN)).toBe(true);
        expect(await store.getAccessToken(OTHER_APP)).toBeNull();
      });

      it("a held lease is taken over only once it has run out; a failed fetch frees it without a token", async () => {
        expect(await store.claimAccessTokenFetch(APP, "dead", T0, T0 + MIN, T0)).toBe(true);
        expect(await store.claimAccessTokenFetch(APP, "p2", T0 + MIN - 1, T0 + 2 * MIN, T0 + MIN - 1)).toBe(false);
        expect(await store.claimAccessTokenFetch(APP, "p2", T0 + MIN, T0 + 2 * MIN, T0 + MIN)).toBe(true);
        // The dead owner's late save stores its token but frees no one else's lease.
        await store.saveAccessToken(APP, "dead", "sealed-late", T0 + 60 * MIN);
        expect(await store.getAccessToken(APP)).toMatchObject({ sealed: "sealed-late", leaseOwner: "p2" });
        await store.saveAccessToken(APP, "p2", null, 0);
        expect(await store.getAccessToken(APP)).toEqual({ sealed: "sealed-late", expiresAt: T0 + 60 * MIN, leaseOwner: null, leaseUntil: 0 });
      });

      it("invalidates only the token that failed", async () => {
        await store.claimAccessTokenFetch(APP, "p1", T0, T0 + MIN, T0);
        await store.saveAccessToken(APP, "p1", "sealed-new", T0 + 60 * MIN);
        expect(await store.invalidateAccessToken(APP, "sealed-old")).toBe(false);
        expect((await store.getAccessToken(APP))?.expiresAt).toBe(T0 + 60 * MIN);
        expect(await store.invalidateAccessToken(APP, "sealed-new")).toBe(true);
        expect((await store.getAccessToken(APP))?.expiresAt).toBe(0);
      });

      it("counts force_refresh per day, at most maxPerDay, minIntervalMs apart, under concurrency", async () => {
        const rule = { day: 1, maxPerDay: 3, minIntervalMs: 30_000 };
        const burst = await Promise.all(Array.from({ length: 5 }, () => store.claimForceRefresh(APP, T0, rule)));
        expect(burst.filter(Boolean)).toHaveLength(1);
        expect(await store.claimForceRefresh(APP, T0 + 29_999, rule)).toBe(false);
        expect(await store.claimForceRefresh(APP, T0 + 30_000, rule)).toBe(true);
        expect(await store.claimForceRefresh(APP, T0 + 60_000, rule)).toBe(true);
        expect(await store.claimForceRefresh(APP, T0 + 90_000, rule)).toBe(false); // 3 taken on day 1
        expect(await store.claimForceRefresh(APP, T0 + 90_000, { ...rule, day: 2 })).toBe(true);
        expect(await store.claimForceRefresh(OTHER_APP, T0, rule)).toBe(true);
      });
    });

    describe("password credentials", () => {
      const REALM = "password:demo";
      const code = (loginType = "auths.loginTypes.pw") => ({ hash: newHash(), expiresAt: T0 + 5 * MIN, loginType });

      it("registers user, credential, membership and first login code in one go; a taken username writes nothing", async () => {
        const user = await store.registerPasswordUser({ realm: REALM, username: "ann", passwordHash: "$h1", name: "Ann", corp: { corpId: "c1", corpName: "One" }, loginCode: code() }, T0);
        expect(user).toEqual({ userId: expect.any(Number), name: "Ann", createdAt: T0 });
        expect(await store.findPasswordCredential(REALM, "ann")).toEqual({ realm: REALM, username: "ann", userId: user.userId, passwordHash: "$h1", createdAt: T0, updatedAt: T0 });
        expect(await store.findPasswordCredentialByUser(REALM, user.userId)).toMatchObject({ username: "ann" });
        expect(await store.findPasswordCredential("password:other", "ann")).toBeNull();
        expect(await store.listUserCorps(user.userId)).toEqual([{ corpId: "c1", corpName: "One" }]);
        const again = code();
        await expect(store.registerPasswordUser({ realm: REALM, username: "ann", passwordHash: "$h2", loginCode: again }, T0)).rejects.toMatchObject({ code: "USERNAME_TAKEN" });
        expect((await store.consumeCode("login", again.hash, T0)).status).toBe("invalid");
        // The same name in another realm (another app) is free.
        await store.registerPasswordUser({ realm: "password:other", username: "ann", passwordHash: "$h3", loginCode: code() }, T0);
      });

      it("concurrent registrations of one username (through a peer connection too, where there is one) create exactly one user", async () => {
        const stores = openPeer ? [store, await openPeer()] : [store];
        const outcomes = await Promise.allSettled(
          [0, 1, 2, 3].map((i) => stores[i % stores.length]!.registerPasswordUser({ realm: REALM, username: "race", passwordHash: "$h", loginCode: code() }, T0)),
        );
        expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "USERNAME_TAKEN" });
      });

      it("gives an existing user a credential, with the documented conflicts", async () => {
        const a = await store.createUser({}, T0);
        const b = await store.createUser({}, T0);
        await store.createPasswordCredential({ realm: REALM, username: "bea", userId: a.userId, passwordHash: "$h" }, T0);
        await expect(store.createPasswordCredential({ realm: REALM, username: "bea", userId: b.userId, passwordHash: "$h" }, T0)).rejects.toMatchObject({ code: "USERNAME_TAKEN" });
        await expect(store.createPasswordCredential({ realm: REALM, username: "bea2", userId: a.userId, passwordHash: "$h" }, T0)).rejects.toMatchObject({ code: "PASSWORD_ALREADY_SET" });
        await expect(store.createPasswordCredential({ realm: REALM, username: "bea3", userId: b.userId + 1000, passwordHash: "$h" }, T0)).rejects.toMatchObject({ code: "USER_NOT_FOUND" });
      });

      it("a new hash can end every other session of the user and void the credential's unused login codes", async () => {
        const user = await store.registerPasswordUser({ realm: REALM, username: "cal", passwordHash: "$old", loginCode: code() }, T0);
        const origin = { loginType: "auths.loginTypes.pw", appId: REALM, openId: "cal" };
        const [mine, theirs, wechat] = [newHash(), newHash(), newHash()];
        for (const s of [mine, theirs]) await store.createSession(s, { userId: user.userId, corpId: null, expiresAt: T0 + MIN, origin }, T0);
        await store.createSession(wechat, { userId: user.userId, corpId: null, expiresAt: T0 + MIN, origin: { loginType: "wx", appId: APP, openId: "o" } }, T0);
        const pending = newHash();
        await store.saveLoginCode(pending, { appId: REALM, userId: user.userId, expiresAt: T0 + MIN, origin }, T0);

        expect(await store.updatePasswordHash(REALM, user.userId, "$rehashed", T0 + 1)).toBe(true); // a rehash ends nothing
        expect(await store.getSession(theirs, T0)).not.toBeNull();
        expect(await store.updatePasswordHash(REALM, user.userId, "$new", T0 + 2, { endSessions: true, keepTokenHash: mine })).toBe(true);
        expect(await store.findPasswordCredential(REALM, "cal")).toMatchObject({ passwordHash: "$new", updatedAt: T0 + 2, createdAt: T0 });
        expect(await store.getSession(mine, T0)).not.toBeNull();
        expect(await store.getSession(theirs, T0)).toBeNull();
        expect(await store.getSession(wechat, T0)).toBeNull();
        expect((await store.consumeCode("login", pending, T0)).status).toBe("invalid");
        expect(await store.updatePasswordHash(REALM, user.userId + 1000, "$x", T0)).toBe(false);
      });

      it("removing a credential voids what it issued, and nothing else", async () => {
        const user = await store.registerPasswordUser({ realm: REALM, username: "dan", passwordHash: "$h", loginCode: code() }, T0);
        const origin = { loginType: "auths.loginTypes.pw", appId: REALM, openId: "dan" };
        const [pwSession, otherSession, pwCode] = [newHash(), newHash(), newHash()];
        await store.createSession(pwSession, { userId: user.userId, corpId: null, expiresAt: T0 + MIN, origin }, T0);
        await store.createSession(otherSession, { userId: user.userId, corpId: null, expiresAt: T0 + MIN }, T0);
        await store.saveLoginCode(pwCode, { appId: REALM, userId: user.userId, expiresAt: T0 + MIN, origin }, T0);
        expect(await store.deletePasswordCredential(REALM, user.userId, T0)).toBe(true);
        expect(await store.deletePasswordCredential(REALM, user.userId, T0)).toBe(false);
        expect(await store.findPasswordCredential(REALM, "dan")).toBeNull();
        expect(await store.getSession(pwSession, T0)).toBeNull();
        expect(await store.getSession(otherSession, T0)).not.toBeNull();
        expect((await store.consumeCode("login", pwCode, T0)).status).toBe("invalid");
      });
    });

    describe("concurrency", () => {
      /** The store and, when the implementation offers one, a peer on the same database, alternating. */
      const racers = async (): Promise<Store[]> => (openPeer ? [store, await openPeer()] : [store]);

      it("one login code consumed by 20 concurrent calls: exactly one ok", async () => {
        const stores = await racers();
        const u = await store.createUser({}, T0);
        const h = newHash();
        await store.saveLoginCode(h, { appId: APP, userId: u.userId, expiresAt: T0 + MIN }, T0);
        const results = await Promise.all(Array.from({ length: 20 }, (_, i) => stores[i % stores.length]!.consumeCode("login", h, T0)));
        expect(results.filter((r) => r.status === "ok")).toHaveLength(1);
        expect(results.filter((r) => r.status === "invalid")).toHaveLength(19);
      });

      it("bind codes redeemed concurrently: one user and one binding per code", async () => {
        const stores = await racers();
        const hashes = Array.from({ length: 5 }, () => newHash());
        for (const [i, h] of hashes.entries()) await store.saveBindCode(h, { appId: APP, openId: `o-r${i}`, unionId: null, expiresAt: T0 + MIN }, T0);
        const calls = hashes.flatMap((h) => Array.from({ length: 4 }, (_, k) => stores[k % stores.length]!.redeemBindCode(h, T0, { appId: APP, corp: { corpId: "c-r", corpName: "R" } })));
        const results = await Promise.all(calls);
        const users = results.flatMap((r) => (r.status === "ok" ? [r.user.userId] : []));
        expect(users).toHaveLength(hashes.length);
        expect(results.filter((r) => r.status === "invalid")).toHaveLength(hashes.length * 3);
        for (const [i] of hashes.entries()) expect(users).toContain((await store.findBindingByOpenId(APP, `o-r${i}`))?.userId);
      });

      it("one identity bound to different users at once: one wins, the rest WECHAT_ALREADY_BOUND", async () => {
        const stores = await racers();
        const users = await Promise.all(Array.from({ length: 8 }, () => store.createUser({}, T0)));
        const outcomes = await Promise.allSettled(
          users.map((u, i) => stores[i % stores.length]!.createBinding({ appId: APP, openId: "o-contested", unionId: null, userId: u.userId }, T0)),
        );
        const won = outcomes.flatMap((o) => (o.status === "fulfilled" ? [o.value] : []));
        expect(won).toHaveLength(1);
        for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "WECHAT_ALREADY_BOUND" });
        expect(await store.findBindingByOpenId(APP, "o-contested")).toEqual(won[0]);
      });

      it("one user bound to different identities at once: one wins, the rest ALREADY_BOUND", async () => {
        const stores = await racers();
        const u = await store.createUser({}, T0);
        const outcomes = await Promise.allSettled(
          Array.from({ length: 8 }, (_, i) => stores[i % stores.length]!.createBinding({ appId: APP, openId: `o-many-${i}`, unionId: null, userId: u.userId }, T0)),
        );
        expect(outcomes.filter((o) => o.status === "fulfilled")).toHaveLength(1);
        for (const o of outcomes) if (o.status === "rejected") expect(o.reason).toMatchObject({ code: "ALREADY_BOUND" });
      });

      it("one access-token lease among 10 concurrent claims (peers included): exactly one; one force_refresh among 10", async () => {
        const stores = await racers();
        const claims = await Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % stores.length]!.claimAccessTokenFetch(APP, `p${i}`, T0, T0 + MIN, T0)));
        expect(claims.filter(Boolean)).toHaveLength(1);
        const rule = { day: 1, maxPerDay: 20, minIntervalMs: 30_000 };
        const forced = await Promise.all(Array.from({ length: 10 }, (_, i) => stores[i % stores.length]!.claimForceRefresh(OTHER_APP, T0, rule)));
        expect(forced.filter(Boolean)).toHaveLength(1);
      });
    });

    describe("purgeExpired", () => {
      it("deletes expired and used codes and expired sessions, and counts them", async () => {
        const u = await store.createUser({}, T0);
        const now = T0 + 10 * MIN;
        const live = (h: string) => store.saveBindCode(h, { appId: APP, openId: "o", unionId: null, expiresAt: now + MIN }, T0);
        const [bLive, bUsed, bOld] = [newHash(), newHash(), newHash()];
        await live(bLive);
        await live(bUsed);
        await store.consumeCode("bind", bUsed, T0);
        await store.saveBindCode(bOld, { appId: APP, openId: "o", unionId: null, expiresAt: now }, T0);
        const [lLive, lOld] = [newHash(), newHash()];
        await store.saveLoginCode(lLive, { appId: APP, userId: u.userId, expiresAt: now + MIN }, T0);
        await store.saveLoginCode(lOld, { appId: APP, userId: u.userId, expiresAt: now - MIN }, T0);
        const [sLive, sOld] = [newHash(), newHash()];
        await store.createSession(sLive, { userId: u.userId, corpId: null, expiresAt: now + MIN }, T0);
        await store.createSession(sOld, { userId: u.userId, corpId: null, expiresAt: now }, T0);

        const claim = (use: string, expiresAt: number) => ({ appId: APP, use, holder: newSecretToken(16), leaseUntil: T0 + MIN, expiresAt });
        const [wLive, wOld, wHeld] = [newHash(), newHash(), newHash()];
        await store.claimWxCode(wLive, claim("getLoginCode", now + MIN), T0);
        const old = claim("getLoginCode", T0 + MIN);
        await store.claimWxCode(wOld, old, T0);
        await store.settleWxCode(wOld, old.holder, { state: "spent" }, now);
        // Expired, but its holder's lease still runs (a slow exchange): kept until the lease ends.
        await store.claimWxCode(wHeld, { ...claim("getLoginCode", now), leaseUntil: now + MIN }, T0);

        expect(await store.purgeExpired(now)).toEqual({ bindCodes: 2, loginCodes: 1, sessions: 1, wxCodes: 1, rateWindows: 0, loginFailures: 0 });
        expect(await store.purgeExpired(now)).toEqual({ bindCodes: 0, loginCodes: 0, sessions: 0, wxCodes: 0, rateWindows: 0, loginFailures: 0 });
        // The live entry is still there (another use is refused by it).
        expect(await store.claimWxCode(wLive, claim("bind:1", now + MIN), now)).toMatchObject({ status: "held", use: "getLoginCode" });
        expect((await store.consumeCode("bind", bLive, now)).status).toBe("ok");
        expect((await store.consumeCode("login", lLive, now)).status).toBe("ok");
        expect(await store.getSession(sLive, now)).not.toBeNull();
        expect(await store.purgeExpired(now + MIN)).toMatchObject({ wxCodes: 2 });
      });
    });
  });
}
