import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../runtime/clock.ts";
import { bearerToken } from "../runtime/http/auth.ts";
import { AUTH, LOGIN, startStack, type Stack } from "./helpers/http.ts";

// Login state over HTTP: Bearer tokens from loginByCode, resolved through AuthSvc for loginRequired functions.
describe("HTTP auth", () => {
  let stack: Stack;
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    stack = await startStack({ clock });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("parses the Authorization header strictly", () => {
    expect(bearerToken(undefined)).toBeNull();
    expect(bearerToken("Bearer abcdefghijklmnopqrstuvwxyz012345")).toBe("abcdefghijklmnopqrstuvwxyz012345");
    expect(bearerToken("bearer   abcdefghijklmnopqrstuvwxyz012345")).toBe("abcdefghijklmnopqrstuvwxyz012345");
    for (const bad of ["Basic abc", "Bearer", "Bearer short", "Bearer two words here-and-more", "abcdefghijklmnopqrstuvwxyz012345"]) {
      expect(() => bearerToken(bad)).toThrow(expect.objectContaining({ code: "TOKEN_INVALID" }));
    }
  });

  it("lets a loginRequired function through only with a live session of the right user", async () => {
    const userId = await stack.register("auth-user");
    const { token } = await stack.login("auth-user");
    const me = await stack.call(`${AUTH}/getCurrentUser`, undefined, { token });
    expect(me.status).toBe(200);
    expect(me.body.data.userId).toBe(userId);

    // No arguments: no body, or an empty JSON body, both work.
    const emptyJson = await stack.call(`${AUTH}/getCurrentUser`, undefined, { token, raw: "" });
    expect(emptyJson.status).toBe(200);

    // The token travels in the header only; a body key is not an argument.
    const inBody = await stack.call(`${AUTH}/getCurrentUser`, { token });
    expect(inBody.status).toBe(400);
    expect(inBody.body.error.code).toBe("API_PARAMS_ERROR");
    expect(inBody.text).not.toContain(token);

    // A session expires on the server's clock.
    clock.advance(8 * 24 * 3600 * 1000);
    const expired = await stack.call(`${LOGIN}/unbind`, { userId }, { token });
    expect(expired.status).toBe(401);
    expect(expired.body.error.code).toBe("TOKEN_INVALID");
  });

  it("a logged-out token is refused everywhere", async () => {
    const userId = await stack.register("auth-logout");
    const { token } = await stack.login("auth-logout");
    expect((await stack.call(`${AUTH}/logout`, undefined, { token })).status).toBe(200);
    const again = await stack.call(`${AUTH}/logout`, undefined, { token });
    expect(again.body.error.code).toBe("TOKEN_INVALID");
    const unbind = await stack.call(`${LOGIN}/unbind`, { userId }, { token });
    expect(unbind.status).toBe(401);
  });

  it("login functions ignore a stale or malformed Authorization header", async () => {
    await stack.register("auth-stale");
    const res = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("auth-stale") }, { headers: { authorization: "Bearer nope" } });
    expect(res.status).toBe(200);
    expect(res.body.data.loginCode).toEqual(expect.any(String));
  });

  it("bind acts on the logged-in user: own userId works, anyone else's is 403", async () => {
    const userId = await stack.register("auth-bind");
    const { token } = await stack.login("auth-bind");
    expect((await stack.call(`${LOGIN}/unbind`, { userId }, { token })).status).toBe(200);
    // That session ended with the unbind; the user signs in another way to bind again.
    expect((await stack.call(`${LOGIN}/bind`, { userId, code: stack.code("auth-bind-2") }, { token })).status).toBe(401);
    const elsewhere = await stack.signInElsewhere(userId);
    const other = await stack.call(`${LOGIN}/bind`, { userId: userId + 1, code: stack.code("auth-bind-2") }, { token: elsewhere });
    expect(other.status).toBe(403);
    const own = await stack.call(`${LOGIN}/bind`, { userId, code: stack.code("auth-bind-2") }, { token: elsewhere });
    expect(own.status).toBe(200);
    expect(own.body.data).toMatchObject({ success: true, userId });
  });

  it("no token, code or bind code appears in any log line", async () => {
    await stack.register("auth-grep");
    const { token } = await stack.login("auth-grep");
    const code = stack.code("auth-grep");
    const first = await stack.call(`${LOGIN}/getLoginCode`, { code });
    const logs = stack.logs();
    expect(logs.length).toBeGreaterThan(0);
    for (const secret of [token, code, first.body.data.loginCode]) expect(logs).not.toContain(secret);
  });
});
