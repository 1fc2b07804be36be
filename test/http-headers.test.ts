import net from "node:net";
import { afterEach, describe, expect, it } from "vitest";
import { compileTrustProxy } from "../runtime/http/trust.ts";
import { AUTH, LOGIN, post, startStack, type Stack } from "./helpers/http.ts";

/**
 * Headers every answer must get right:
 * - X-Request-Id: a client's own id was used in the answer and the logs even with no proxy
 *   trusted; now it is taken only from a trusted proxy (JIT_TRUST_PROXY), and only when short
 *   and plain, else the server makes one.
 * - Cache-Control: no-store was missing on answers carrying a token or a code; now every
 *   answer has it, errors, 404 and 429 included.
 */
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/;

describe("X-Request-Id", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("is ignored when no proxy is trusted: a forged id appears in no answer and no log line", async () => {
    stack = await startStack();
    const res = await stack.call(`${LOGIN}/getLoginCode`, { code: 42 }, { headers: { "x-request-id": "forged-by-client" } });
    expect(res.status).toBe(400);
    expect(res.headers.get("x-request-id")).toMatch(UUID);
    expect(res.body.error.requestId).toBe(res.headers.get("x-request-id"));
    expect(stack.logs()).toContain(res.body.error.requestId);
    expect(stack.logs()).not.toContain("forged-by-client");
  });

  it("is taken from a trusted proxy when short and plain, else replaced", async () => {
    stack = await startStack({ trustProxy: ["127.0.0.1"] });
    const s = stack;
    const idOf = async (id: string) => (await s.call(`${LOGIN}/nope`, {}, { headers: { "x-request-id": id } })).headers.get("x-request-id");
    expect(await idOf("proxy-id.42_A")).toBe("proxy-id.42_A");
    expect(await idOf("a".repeat(64))).toBe("a".repeat(64));
    for (const bad of ["a".repeat(65), "has space", "semi;colon", "colon:id", "new\u00e9"]) expect(await idOf(bad)).toMatch(UUID);
    expect(s.logs()).toContain('"reqId":"proxy-id.42_A"');
  });

  it("is ignored from a peer that is not one of the trusted proxies", async () => {
    stack = await startStack({ trustProxy: ["10.0.0.0/8", "uniquelocal"] });
    const res = await stack.call(`${LOGIN}/nope`, {}, { headers: { "x-request-id": "proxy-id-1" } });
    expect(res.headers.get("x-request-id")).toMatch(UUID);
  });

  it("JIT_TRUST_PROXY: addresses, CIDRs and proxy-addr's names; anything else is CONFIG_INVALID", () => {
    const trust = compileTrustProxy(["10.0.0.0/8", "::1", "loopback"]);
    expect([trust("10.1.2.3", 0), trust("11.0.0.1", 0), trust("::1", 0), trust("127.0.0.5", 0), trust("::ffff:10.0.0.9", 0)]).toEqual([true, false, true, true, true]);
    expect(compileTrustProxy(false)("127.0.0.1", 0)).toBe(false);
    expect(compileTrustProxy(true)("203.0.113.9", 0)).toBe(true);
    for (const bad of ["proxy.example", "10.0.0.0/33", "10.0.0.0/", "1"]) {
      expect(() => compileTrustProxy([bad])).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("JIT_TRUST_PROXY") }));
    }
  });
});

describe("Cache-Control: no-store on every answer", () => {
  let stack: Stack | undefined;
  afterEach(async () => {
    await stack?.close();
    stack = undefined;
  });

  it("successes carrying codes and tokens, every kind of error, 404, 413, 429 and /healthz", async () => {
    stack = await startStack({ limits: { ipRate: { max: 6, windowMs: 60_000 }, bodyLimit: 1024 } });
    const s = stack;
    const seen: Array<[string, number, string | null]> = [];
    const check = (what: string, res: { status: number; headers: Headers }) => seen.push([what, res.status, res.headers.get("cache-control")]);

    const got = await s.call(`${LOGIN}/getLoginCode`, { code: s.code("no-store") });
    check("bind code", got);
    const reg = await s.call(`${LOGIN}/register`, { bindCode: got.body.data.bindCode });
    check("register", reg);
    const { token } = await s.login("no-store"); // 2 more login calls (4 of 6)
    check("current user", await s.call(`${AUTH}/getCurrentUser`, undefined, { token }));
    check("401", await s.call(`${AUTH}/getCurrentUser`));
    check("400", await s.call(`${AUTH}/loginByCode`, { loginCode: 7 }));
    check("413", await s.call(`${AUTH}/getCurrentUser`, { pad: "x".repeat(2048) }, { token }));
    check("404 element", await s.call("/api/demo/no/such/element", {}));
    check("404 route", await s.call("/nowhere", {}));
    check("malformed URL", await s.call("/api/demo/%E0%A4%A/x", {}));
    const healthz = await fetch(`${s.base}/healthz`);
    check("healthz", healthz);
    await s.call(`${LOGIN}/register`, { bindCode: "no-such-code-0000000000000" }); // 6 of 6
    const limited = await post(s.base, `${LOGIN}/register`, { bindCode: "no-such-code-0000000000000" });
    check("429", limited);
    expect(seen.map(([what, status]) => [what, status])).toEqual([
      ["bind code", 200],
      ["register", 200],
      ["current user", 200],
      ["401", 401],
      ["400", 400],
      ["413", 413],
      ["404 element", 404],
      ["404 route", 404],
      ["malformed URL", 400],
      ["healthz", 200],
      ["429", 429],
    ]);
    for (const [what, , header] of seen) expect([what, header]).toEqual([what, "no-store"]);
  });

  it("the raw 400 written for a request Node cannot parse", async () => {
    stack = await startStack();
    const url = new URL(stack.base);
    const answer = await new Promise<string>((resolve, reject) => {
      const socket = net.connect(Number(url.port), url.hostname, () => socket.write("POST /api HTTP/1.1\r\nHost: x\r\nContent-Length: nope\r\n\r\n"));
      let text = "";
      socket.on("data", (c) => (text += c.toString("utf8")));
      socket.on("end", () => resolve(text));
      socket.on("error", reject);
    });
    expect(answer).toMatch(/^HTTP\/1\.1 400 /);
    expect(answer).toMatch(/\r\nCache-Control: no-store\r\n/i);
  });
});
