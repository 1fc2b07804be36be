import { afterEach, describe, expect, it } from "vitest";
import { DEFAULT_LIMITS } from "../runtime/http/options.ts";
import { loadApp } from "../runtime/index.ts";
import { silentLogger } from "../runtime/logging/logger.ts";
import { appJson, greeterFamily, makeFixture } from "./helpers/appFixture.ts";
import { LOGIN, startStack, type Stack } from "./helpers/http.ts";

/**
 * Regression: `bind` had no rate limit, yet each call asks WeChat: 80 binds with made-up codes
 * from one token were 80 WeChat calls and no 429. bind declares `"rateLimit": ["ip", "user"]`
 * in its functionList entry: per logged-in user and per IP (shared with the login functions),
 * refused with 429 RATE_LIMITED and Retry-After before WeChat is called.
 */
describe("bind is rate-limited per user and per IP", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  /** A logged-in user with no binding, so that bind goes as far as WeChat. */
  async function unboundUser(s: Stack, openId: string): Promise<{ token: string; userId: number }> {
    const userId = await s.register(openId);
    const session = await s.login(openId);
    expect((await s.call(`${LOGIN}/unbind`, { userId }, { token: session.token })).status).toBe(200);
    // The unbind ended the session its identity opened: signed in another way, the user binds.
    return { token: await s.signInElsewhere(userId), userId };
  }

  it("80 binds with made-up codes from one token: the default 10 per minute reach WeChat, the rest get 429", async () => {
    stack = await startStack({ limits: { userRate: DEFAULT_LIMITS.userRate } });
    const s = stack;
    const { token, userId } = await unboundUser(s, "binder");
    const before = s.fake.stats().jscode2session;
    const replies = [];
    for (let i = 0; i < 80; i++) replies.push(await s.call(`${LOGIN}/bind`, { userId, code: `made-up-code-${i}` }, { token }));
    const statuses = replies.map((r) => r.status);
    expect(statuses.slice(0, 10).every((status) => status === 400)).toBe(true); // WeChat: invalid code
    expect(statuses.slice(10).every((status) => status === 429)).toBe(true);
    expect(s.fake.stats().jscode2session - before).toBe(10);
    const limited = replies[10]!;
    expect(limited.body.error.code).toBe("RATE_LIMITED");
    const retryAfter = Number(limited.headers.get("retry-after"));
    expect(retryAfter).toBeGreaterThan(0);
    expect(retryAfter).toBeLessThanOrEqual(60);
  });

  it("per user, whatever the address; another user is not affected; the window opens again", async () => {
    let now = 7_000_000;
    stack = await startStack({ limits: { userRate: { max: 2, windowMs: 30_000 } }, now: () => now, trustProxy: ["127.0.0.1"] });
    const s = stack;
    const a = await unboundUser(s, "user-a");
    const b = await unboundUser(s, "user-b");
    const bind = (who: { token: string; userId: number }, ip: string) =>
      s.call(`${LOGIN}/bind`, { userId: who.userId, code: `bad-${Math.random()}` }, { token: who.token, headers: { "x-forwarded-for": ip } });
    expect((await bind(a, "198.51.100.1")).status).toBe(400);
    expect((await bind(a, "198.51.100.2")).status).toBe(400);
    const refused = await bind(a, "198.51.100.3");
    expect(refused.status).toBe(429);
    expect(refused.headers.get("retry-after")).toBe("30");
    expect((await bind(b, "198.51.100.1")).status).toBe(400);
    // unbind declares no limit: still answered.
    expect((await s.call(`${LOGIN}/unbind`, { userId: a.userId }, { token: a.token })).body.error.code).toBe("NOT_BOUND");
    now += 30_000;
    expect((await bind(a, "198.51.100.3")).status).toBe(400);
    // The bind that succeeds goes through the same limit: a real code after the window.
    const ok = await s.call(`${LOGIN}/bind`, { userId: b.userId, code: s.code("user-b") }, { token: b.token });
    expect(ok.body.data).toMatchObject({ success: true, userId: b.userId });
  });

  it("per IP, sharing the login functions' budget", async () => {
    stack = await startStack({ limits: { ipRate: { max: 8, windowMs: 60_000 } } });
    const s = stack;
    // register: getLoginCode + register; login: getLoginCode + loginByCode → 4 of 8.
    const { token, userId } = await unboundUser(s, "ip-binder");
    const statuses = [];
    for (let i = 0; i < 6; i++) statuses.push((await s.call(`${LOGIN}/bind`, { userId, code: `bad-${i}` }, { token })).status);
    expect(statuses).toEqual([400, 400, 400, 400, 429, 429]);
    // A login call from the same address is refused too: one budget per address.
    expect((await s.call(`${LOGIN}/getLoginCode`, { code: s.code("other") })).status).toBe(429);
  });

  it("the per-IP limit runs before the token is read: a flood of bad tokens is refused too", async () => {
    stack = await startStack({ limits: { ipRate: { max: 1, windowMs: 60_000 } } });
    const s = stack;
    expect((await s.call(`${LOGIN}/bind`, { userId: 1, code: "x" }, { token: "t".repeat(43) })).status).toBe(401);
    const limited = await s.call(`${LOGIN}/bind`, { userId: 1, code: "x" }, { token: "t".repeat(43) });
    expect(limited.status).toBe(429);
    expect(s.fake.stats().jscode2session).toBe(0);
  });
});

describe("declaring rate limits in functionList", () => {
  it("a per-user limit on a function anyone may call (loginRequired 0) is a declaration error naming it", async () => {
    const fx = await makeFixture({
      ...greeterFamily(),
      ...appJson("demo"),
      "elements/demo/open/e.json": {
        title: "o",
        type: "",
        functionList: [
          { name: "fine", args: [], loginRequired: 1, rateLimit: ["ip", "user"] },
          { name: "noUser", args: [], loginRequired: 0, rateLimit: ["user"] },
          { name: "unknown", args: [], rateLimit: ["planet"] },
        ],
      },
    });
    try {
      const err = await loadApp({ root: fx.root, logger: silentLogger }).then(
        () => null,
        (e: unknown) => e as { code: string; problems: Array<{ code: string; pointer?: string; message: string }> },
      );
      expect(err?.code).toBe("DECLARATION_INVALID");
      const pointers = err!.problems.filter((p) => p.message.includes("functionList")).map((p) => p.pointer);
      expect(pointers).toEqual(expect.arrayContaining(["/functionList/1/rateLimit", "/functionList/2/rateLimit/0"]));
      expect(err!.problems.find((p) => p.pointer === "/functionList/1/rateLimit")?.message).toMatch(/names "user" but the function has loginRequired 0/);
      expect(pointers.some((p) => p?.startsWith("/functionList/0"))).toBe(false);
    } finally {
      await fx.cleanup();
    }
  });
});
