import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { DEMO_APPID, DEMO_SECRET, LOGIN, REPO, startStack, type Reply, type Stack } from "./helpers/http.ts";

// Every error status of the HTTP API, each with a registered code, a request id, and nothing else.

const LEAKY_URL = "https://api.weixin.qq.com/sns/jscode2session?appid=wx1&secret=TOPSECRET-42&js_code=JSCODE-42";

// Extra elements in the temp app: one that fails unexpectedly, one login that forbids registration.
const extraFiles = {
  "apps/demo/elements/tests/boom/e.json": JSON.stringify({
    type: "services.NormalType",
    title: "fails on purpose",
    backendBundleEntry: ".",
    functionList: [
      { name: "explode", args: [], loginRequired: 0 },
      { name: "storeDown", args: [], loginRequired: 0 },
      { name: "storeGone", args: [], loginRequired: 0 },
    ],
  }),
  "apps/demo/elements/tests/boom/index.ts": `export default (Parent: any) => class extends Parent {
  async explode() {
    const err: any = new Error("SELECT secret FROM users at /home/dev/app.ts via ${LEAKY_URL}");
    err.options = { url: "${LEAKY_URL}" };
    throw err;
  }
  async storeDown() {
    const { StoreError } = await import(${JSON.stringify(pathToFileURL(path.join(REPO, "runtime/errors/index.ts")).href)});
    throw new StoreError("STORE_OPEN_FAILED", { file: "/srv/private/data/app.sqlite", reason: "SQLITE_CANTOPEN" });
  }
  async storeGone() {
    const { StoreError } = await import(${JSON.stringify(pathToFileURL(path.join(REPO, "runtime/errors/index.ts")).href)});
    throw new StoreError("STORE_UNAVAILABLE", { file: "db.internal:5432/private_db", reason: "connect ECONNREFUSED 10.1.2.3:5432" });
  }
};\n`,
  "apps/demo/elements/auths/loginTypes/closedLogin/e.json": JSON.stringify({
    type: "auths.loginTypes.WeChatMiniType",
    title: "no registration",
    allowRegister: 0,
    backendBundleEntry: ".",
    frontBundleEntry: "./closedLogin.json",
  }),
  "apps/demo/elements/auths/loginTypes/closedLogin/closedLogin.json": JSON.stringify({ authConfig: { appId: DEMO_APPID, appSecret: DEMO_SECRET } }),
};

function expectError(reply: Reply, status: number, code: string): void {
  expect({ status: reply.status, code: reply.body?.error?.code }).toEqual({ status, code });
  expect(Object.keys(reply.body.error).sort()).toEqual(["code", "message", "requestId"]);
  expect(reply.body.error.requestId).toBe(reply.headers.get("x-request-id"));
  expect(reply.text).not.toMatch(/ at |\.ts|SELECT|node_modules|stack/);
}

describe("HTTP API errors", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ extraFiles, limits: { bodyLimit: 2048 } });
  });
  afterAll(async () => {
    await stack?.close();
  });

  describe("400 bad input", () => {
    it("names unknown, missing and wrong-typed keys without echoing values", async () => {
      const unknown = await stack.call(`${LOGIN}/getLoginCode`, { code: "abc", extra: "VALUE-1" });
      expectError(unknown, 400, "API_PARAMS_ERROR");
      expect(unknown.body.error.message).toContain("/extra");
      expect(unknown.text).not.toContain("VALUE-1");

      const missing = await stack.call(`${LOGIN}/getLoginCode`, {});
      expectError(missing, 400, "API_PARAMS_ERROR");
      expect(missing.body.error.message).toContain("/code is required");

      const wrong = await stack.call(`${LOGIN}/getLoginCode`, { code: 12345 });
      expectError(wrong, 400, "API_PARAMS_ERROR");
      expect(wrong.body.error.message).toContain("/code must be of type string");
      expect(wrong.text).not.toContain("12345");

      // Not coerced: "7" is not a userId, 7.5 is not an integer.
      await stack.register("typed");
      const { token } = await stack.login("typed");
      for (const userId of ["7", 7.5, null, true]) {
        const bad = await stack.call(`${LOGIN}/unbind`, { userId }, { token });
        expectError(bad, 400, "API_PARAMS_ERROR");
        expect(bad.body.error.message).toContain("/userId");
      }
    });

    it("rejects bodies that are not a JSON object", async () => {
      expectError(await stack.call(`${LOGIN}/getLoginCode`, undefined, { raw: "{not json" }), 400, "BODY_MALFORMED");
      expectError(await stack.call(`${LOGIN}/getLoginCode`, undefined, { raw: '{"__proto__":{"admin":true},"code":"abc"}' }), 400, "BODY_MALFORMED");
      // An empty body is no arguments at all.
      const empty = await stack.call(`${LOGIN}/getLoginCode`, undefined, { raw: "" });
      expectError(empty, 400, "API_PARAMS_ERROR");
      expect(empty.body.error.message).toContain("/code is required");
      expectError(await stack.call(`${LOGIN}/getLoginCode`, ["code"]), 400, "API_PARAMS_ERROR");
      expectError(await stack.call(`${LOGIN}/getLoginCode`, "code"), 400, "API_PARAMS_ERROR");
      const text = await stack.call(`${LOGIN}/getLoginCode`, undefined, { raw: "code=abc", headers: { "content-type": "application/x-www-form-urlencoded" } });
      expectError(text, 400, "API_PARAMS_ERROR");
      expectError(await stack.call(`${LOGIN}/getLoginCode`, { code: "" }), 400, "API_PARAMS_ERROR");
    });

    it("maps login errors to their registered 400s", async () => {
      expectError(await stack.call(`${LOGIN}/register`, { bindCode: "no-such-bind-code-000000000000" }), 400, "BIND_CODE_INVALID");
      expectError(await stack.call(`/api/demo/auths/loginTypes/services/AuthSvc/loginByCode`, { loginCode: "no-such-login-code-0000000000" }), 400, "LOGIN_CODE_INVALID");
      expectError(await stack.call(`${LOGIN}/getLoginCode`, { code: "never-minted-code" }), 400, "WECHAT_CODE_INVALID");
    });
  });

  it("malformed URLs and HTTP framing get the same envelope, without echoing the URL", async () => {
    const badUrl = await stack.call(`/api/demo/%E0%A4%A-secret-ish`, {});
    expectError(badUrl, 400, "API_PARAMS_ERROR");
    expect(badUrl.text).not.toContain("secret-ish");

    const { connect } = await import("node:net");
    const url = new URL(stack.base);
    const raw = await new Promise<string>((resolve, reject) => {
      const socket = connect(Number(url.port), "127.0.0.1", () => {
        socket.write(`POST ${LOGIN}/getLoginCode HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\nContent-Length: 9\r\n\r\n{"code":1}`);
      });
      let text = "";
      socket.on("data", (c) => (text += c.toString("utf8")));
      socket.on("close", () => resolve(text));
      socket.on("error", reject);
    });
    expect(raw).toMatch(/^HTTP\/1\.1 400/);
    const body = JSON.parse(raw.slice(raw.indexOf("\r\n\r\n") + 4));
    expect(body.error).toMatchObject({ code: "API_PARAMS_ERROR", requestId: expect.any(String) });
  });

  it("413 for a body over the limit", async () => {
    const reply = await stack.call(`${LOGIN}/getLoginCode`, { code: "x".repeat(5000) });
    expectError(reply, 413, "BODY_TOO_LARGE");
    expect(reply.body.error.message).toContain("2048");
  });

  it("401 without or with a bad token", async () => {
    expectError(await stack.call(`${LOGIN}/unbind`, { userId: 1 }), 401, "LOGIN_REQUIRED");
    expectError(await stack.call(`${LOGIN}/unbind`, { userId: 1 }, { token: "A".repeat(43) }), 401, "TOKEN_INVALID");
    expectError(await stack.call(`${LOGIN}/unbind`, { userId: 1 }, { headers: { authorization: "Basic dXNlcjpwYXNz" } }), 401, "TOKEN_INVALID");
  });

  it("403 for another user, a blocked WeChat user and a login that forbids registration", async () => {
    const me = await stack.register("me-403");
    const { token } = await stack.login("me-403");
    expectError(await stack.call(`${LOGIN}/unbind`, { userId: me + 1000 }, { token }), 403, "FORBIDDEN");
    stack.fake.script({ errcode: 40226 });
    expectError(await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("blocked") }), 403, "WECHAT_USER_BLOCKED");
    const closed = await stack.call(`/api/demo/auths/loginTypes/closedLogin/getLoginCode`, { code: stack.code("stranger") });
    expectError(closed, 403, "USER_AUTH_MISS");
  });

  it("404 for unknown elements, functions and routes", async () => {
    expectError(await stack.call(`/api/demo/auths/loginTypes/ghost/getLoginCode`, { code: "x" }), 404, "ELEMENT_NOT_FOUND");
    expectError(await stack.call(`${LOGIN}/dropTables`, {}), 404, "FUNCTION_NOT_FOUND");
    expectError(await stack.call(`/nothing/here`, {}), 404, "ROUTE_NOT_FOUND");
  });

  it("404 ROUTE_NOT_FOUND, not FUNCTION_NOT_FOUND, for a trailing slash or an empty segment", async () => {
    // Routes are exact; ".../getLoginCode/" used to answer "has no callable function getLoginCode".
    for (const url of [`${LOGIN}/getLoginCode/`, `${LOGIN}/`, `/api/demo//auths/loginTypes/myWeChatMiniLogin/getLoginCode`, `${LOGIN}//getLoginCode`]) {
      const reply = await stack.call(url, { code: "x" });
      expectError(reply, 404, "ROUTE_NOT_FOUND");
      expect(reply.body.error.message).not.toContain("callable function");
    }
  });

  it("409 for binding conflicts", async () => {
    const me = await stack.register("me-409");
    const { token } = await stack.login("me-409");
    expectError(await stack.call(`${LOGIN}/bind`, { userId: me, code: stack.code("someone-else") }, { token }), 409, "ALREADY_BOUND");
    expect((await stack.call(`${LOGIN}/unbind`, { userId: me }, { token })).status).toBe(200);
    // The unbind ended that session: signed in another way, a second unbind finds nothing.
    expectError(await stack.call(`${LOGIN}/unbind`, { userId: me }, { token }), 401, "TOKEN_INVALID");
    expectError(await stack.call(`${LOGIN}/unbind`, { userId: me }, { token: await stack.signInElsewhere(me) }), 409, "NOT_BOUND");
  });

  it("429, 502 and 503 for WeChat failures, with Retry-After where a retry can succeed", async () => {
    stack.fake.script({ errcode: 45011 });
    const limited = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("w1") });
    expectError(limited, 429, "WECHAT_RATE_LIMITED");
    expect(limited.headers.get("retry-after")).toBe("60"); // WeChat's limit is per minute
    stack.fake.script({ errcode: 40013 });
    const credentials = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("w2") });
    expectError(credentials, 502, "WECHAT_BAD_CREDENTIALS");
    expect(credentials.headers.get("retry-after")).toBeNull(); // retrying will not help
    stack.fake.script({ errcode: 40999 });
    expectError(await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("w3") }), 502, "WECHAT_ERROR");
    stack.fake.script({ errcode: -1 });
    const busy = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("w4") });
    expectError(busy, 503, "WECHAT_BUSY");
    expect(busy.headers.get("retry-after")).toBe("5");
    stack.fake.script({ drop: true });
    const down = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("w5") });
    expectError(down, 503, "WECHAT_UNAVAILABLE");
    expect(down.headers.get("retry-after")).toBe("5");
  });

  it("500 INTERNAL_ERROR with the request id for anything unexpected; the detail only in the scrubbed log", async () => {
    const reply = await stack.call(`/api/demo/tests/boom/explode`, {});
    expectError(reply, 500, "INTERNAL_ERROR");
    expect(reply.body.error.message).toContain(reply.body.error.requestId);
    expect(reply.text).not.toContain("TOPSECRET");
    const logLines = stack.logs().split("\n").filter((l) => l.includes(reply.body.error.requestId));
    expect(logLines.some((l) => l.includes("SELECT secret FROM users"))).toBe(true);
    expect(stack.logs()).not.toContain("TOPSECRET-42");
    expect(stack.logs()).not.toContain("JSCODE-42");
  });

  it("500 for a registered server-side error too, its file path only in the log", async () => {
    const reply = await stack.call(`/api/demo/tests/boom/storeDown`, {});
    expectError(reply, 500, "INTERNAL_ERROR");
    expect(reply.text).not.toContain("/srv/private");
    const line = stack.logs().split("\n").find((l) => l.includes(reply.body.error.requestId) && l.includes("STORE_OPEN_FAILED"));
    expect(line).toContain("/srv/private/data/app.sqlite");
  });

  it("503 for a database that does not answer: its code, Retry-After, and a message naming no host or database", async () => {
    const reply = await stack.call(`/api/demo/tests/boom/storeGone`, {});
    expectError(reply, 503, "STORE_UNAVAILABLE");
    expect(reply.body.error.message).toBe("the database does not answer; retry in a moment");
    expect(reply.headers.get("retry-after")).toBe("5");
    expect(reply.text).not.toMatch(/db\.internal|private_db|10\.1\.2\.3/);
    const line = stack.logs().split("\n").find((l) => l.includes(reply.body.error.requestId) && l.includes("STORE_UNAVAILABLE"));
    expect(line).toContain("db.internal:5432/private_db");
  });

  it("the repo root is untouched by the tests", () => {
    expect(REPO).not.toBe(stack.root);
  });
});

describe("HTTP API errors with the server's logging off", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ extraFiles, httpLog: false });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("answers in the same envelope: 400, 404, 401 and 500 keep their codes and request ids", async () => {
    const bad = await stack.call(`${LOGIN}/getLoginCode`, { code: 12345 });
    expectError(bad, 400, "API_PARAMS_ERROR");
    expectError(await stack.call(`${LOGIN}/nope`, {}), 404, "FUNCTION_NOT_FOUND");
    expectError(await stack.call(`${LOGIN}/unbind`, { userId: 1 }), 401, "LOGIN_REQUIRED");
    const boom = await stack.call(`/api/demo/tests/boom/explode`, {});
    expectError(boom, 500, "INTERNAL_ERROR");
    expect(boom.text).not.toContain("TOPSECRET");
    expect(stack.logs()).toBe("");
  });
});
