import net, { type Socket } from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { DEMO_APPID, LOGIN, TEST_MASTER_KEY, fakeWeChatAndRoot, post, startStack, type Stack } from "./helpers/http.ts";
import { JIT_BIN, startChild } from "./helpers/httpChild.ts";

// Graceful shutdown of `jit serve` (SIGTERM): in-flight requests finish, the database is
// closed, exit 0, and no registration answered 200 is lost.
describe("jit serve graceful shutdown", () => {
  const ctx = fakeWeChatAndRoot();

  it("finishes in-flight registrations on SIGTERM and loses none that answered 200", async () => {
    const dbFile = path.join(ctx.root, "data", "shutdown.sqlite");
    const child = startChild([JIT_BIN, "--root", ctx.root, "--app", "demo", "serve", "--port", "0", "--db", dbFile], {
      WECHAT_API_BASE: ctx.fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_RATE_LIMIT_IP: "off",
      JIT_RATE_LIMIT_OPENID: "off",
    });
    try {
      const [, base] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      // WeChat answers slowly, so exchanges are still in flight when SIGTERM arrives.
      ctx.fake.script({ delayMs: 100, times: 100_000 });

      // Eight clients register new users one after another until the server goes away.
      type Outcome = { openId: string; first?: number; register?: number; userId?: number };
      const results: Outcome[] = [];
      let stopped = false;
      const worker = async (w: number) => {
        for (let i = 0; !stopped; i++) {
          const out: Outcome = { openId: `shutdown-${w}-${i}` };
          results.push(out);
          try {
            const first = await post(base!, `${LOGIN}/getLoginCode`, { code: ctx.fake.mintCode({ appId: DEMO_APPID, openId: out.openId }) });
            out.first = first.status;
            if (first.status !== 200) return;
            const reg = await post(base!, `${LOGIN}/register`, { bindCode: first.body.data.bindCode });
            out.register = reg.status;
            if (reg.status !== 200) return;
            out.userId = reg.body.data.userId;
          } catch {
            return; // refused: the server stopped listening
          }
        }
      };
      const workers = Array.from({ length: 8 }, (_, w) => worker(w));

      // SIGTERM once users registered and exchanges are waiting on WeChat.
      while (results.filter((r) => r.register === 200).length < 8) await new Promise((r) => setTimeout(r, 5));
      const inFlightAtSignal = results.filter((r) => r.first === undefined);
      child.kill("SIGTERM");
      await Promise.all(workers);
      stopped = true;
      const exit = await child.exited;
      expect(exit, child.stderr().split("\n").filter((l) => !l.includes("request")).slice(-15).join("\n")).toEqual({ code: 0, signal: null });

      // Requests in flight at SIGTERM were answered, not cut.
      // (One racing a socket being closed may be refused, so not all of them.)
      expect(inFlightAtSignal.filter((r) => r.first === 200).length).toBeGreaterThan(0);
      const registered = results.filter((r) => r.register === 200);
      expect(registered.length).toBeGreaterThanOrEqual(8);
      const store = await openSqliteStore({ file: dbFile });
      try {
        for (const r of registered) {
          const binding = await store.findBindingByOpenId(DEMO_APPID, r.openId);
          expect(binding?.userId, r.openId).toBe(r.userId);
        }
      } finally {
        await store.close();
      }
      expect(child.stderr()).toContain("shutting down");
      expect(child.stderr()).toMatch(/"msg":"stopped"/);
    } finally {
      child.kill("SIGKILL");
    }
  });
});

// Requests that still arrive while the server closes (keep-alive or pipelined connections;
// new connections are refused) get our envelope with a request id, not Fastify's raw 503
// body (review finding 2).
describe("requests arriving during shutdown", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("answer 503 SERVER_CLOSING in the envelope, with Retry-After and Connection: close", async () => {
    // Server side of every connection, to see when our bytes have reached the server.
    const serverSockets: Socket[] = [];
    stack.server.server.on("connection", (s: Socket) => serverSockets.push(s));
    const { port } = new URL(stack.base);
    const client = net.connect(Number(port), "127.0.0.1");
    let raw = "";
    client.setEncoding("utf8");
    client.on("data", (chunk: string) => (raw += chunk));
    const ended = new Promise<void>((resolve) => client.on("close", () => resolve()));
    await new Promise<void>((resolve) => client.once("connect", () => resolve()));

    // The request line only: the connection is busy with a request (so close() does not
    // drop it as idle), but the request has not reached Fastify yet.
    client.write(`POST ${LOGIN}/getLoginCode HTTP/1.1\r\n`);
    await until(() => serverSockets.some((s) => s.bytesRead > 0));
    const exchanges = stack.fake.stats().jscode2session;
    const closed = stack.server.close();
    await until(() => !stack.server.server.listening);

    const body = JSON.stringify({ code: stack.code("late-comer") });
    client.write(`Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`);
    await ended;
    await closed;

    const [head, text] = raw.split("\r\n\r\n");
    const [statusLine, ...headerLines] = head!.split("\r\n");
    const headers = Object.fromEntries(headerLines.map((l) => [l.slice(0, l.indexOf(":")).toLowerCase(), l.slice(l.indexOf(":") + 1).trim()]));
    expect(statusLine).toMatch(/^HTTP\/1\.1 503 /);
    const parsed = JSON.parse(text!);
    expect(parsed).toEqual({ error: { code: "SERVER_CLOSING", message: expect.stringContaining("shutting down"), requestId: headers["x-request-id"] } });
    expect(headers["x-request-id"]).toEqual(expect.any(String));
    expect(headers.connection).toBe("close");
    expect(headers["retry-after"]).toBe("5");
    expect(headers["content-type"]).toContain("application/json");
    // The late request did no work: WeChat was never asked to exchange its code.
    expect(stack.fake.stats().jscode2session).toBe(exchanges);
    expect(stack.logs()).toContain("request refused: shutting down");
  });
});

async function until(condition: () => boolean): Promise<void> {
  for (const deadline = Date.now() + 10_000; !condition(); ) {
    if (Date.now() > deadline) throw new Error("condition not met within 10 s");
    await new Promise((r) => setTimeout(r, 5));
  }
}

// Repeated signals (review finding: GNU `timeout` without --foreground sends SIGTERM to the
// child and then to its process group, and the second one used to force exit 1 and cut the
// requests in flight). A repeated SIGTERM is ignored and the shutdown timeout is the bound;
// a second SIGINT (Ctrl-C pressed again) still exits at once.
describe("repeated signals during a graceful shutdown", () => {
  const ctx = fakeWeChatAndRoot();

  /** A `jit serve` child with one getLoginCode waiting `delayMs` on WeChat. */
  async function serveWithSlowRequest(name: string, delayMs: number, env: Record<string, string> = {}) {
    const child = startChild([JIT_BIN, "--root", ctx.root, "--app", "demo", "serve", "--port", "0", "--db", path.join(ctx.root, "data", `${name}.sqlite`)], {
      WECHAT_API_BASE: ctx.fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "info",
      ...env,
    });
    const [, base] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    const code = ctx.fake.mintCode({ appId: DEMO_APPID, openId: `${name}-user` });
    ctx.fake.script({ code, delayMs });
    const exchanges = ctx.fake.stats().jscode2session;
    const reply = post(base!, `${LOGIN}/getLoginCode`, { code }).catch((err: unknown) => ({ failed: err }));
    // In flight: the server has asked WeChat and is waiting for the answer.
    await until(() => ctx.fake.stats().jscode2session > exchanges);
    return { child, reply };
  }

  it("a second SIGTERM ~100 ms later is ignored: the in-flight request answers 200 and the exit is 0", async () => {
    const { child, reply } = await serveWithSlowRequest("double-term", 1500);
    try {
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 100));
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 100));
      child.kill("SIGTERM");
      const answer = await reply;
      expect("status" in answer ? answer.status : answer, child.stderr().slice(-2000)).toBe(200);
      expect("body" in answer && answer.body.data.bindCode).toEqual(expect.any(String));
      expect(await child.exited, child.stderr().slice(-2000)).toEqual({ code: 0, signal: null });
      const stderr = child.stderr();
      // Logged once at info (level 30), however many repeats arrived.
      const ignored = stderr.split("\n").filter((l) => l.includes("repeated signal ignored"));
      expect(ignored).toHaveLength(1);
      expect(JSON.parse(ignored[0]!)).toMatchObject({ level: 30, signal: "SIGTERM" });
      expect(stderr).toMatch(/"msg":"stopped"/);
      expect(stderr).not.toContain("exiting now");
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("a second SIGINT (Ctrl-C twice) exits 1 at once, without waiting for the in-flight request", async () => {
    const { child, reply } = await serveWithSlowRequest("double-int", 4000);
    try {
      child.kill("SIGINT");
      await until(() => child.stderr().includes("shutting down"));
      const second = Date.now();
      child.kill("SIGINT");
      expect(await child.exited).toEqual({ code: 1, signal: null });
      expect(Date.now() - second).toBeLessThan(2000);
      expect(child.stderr()).toContain("SIGINT while shutting down: exiting now");
      // The request was cut, not answered (WeChat was still "thinking" for 4 s).
      const answer = await reply;
      expect("failed" in answer).toBe(true);
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("JIT_SHUTDOWN_TIMEOUT_MS still bounds a stop that repeated SIGTERMs no longer cut short", async () => {
    const { child, reply } = await serveWithSlowRequest("timeout", 4000, { JIT_SHUTDOWN_TIMEOUT_MS: "300" });
    try {
      const signalled = Date.now();
      child.kill("SIGTERM");
      await new Promise((r) => setTimeout(r, 100));
      child.kill("SIGTERM");
      expect(await child.exited).toEqual({ code: 1, signal: null });
      expect(Date.now() - signalled).toBeLessThan(2500);
      expect(child.stderr()).toMatch(/"timeoutMs":300,"msg":"shutdown timed out; exiting"/);
      await reply;
    } finally {
      child.kill("SIGKILL");
    }
  });
});
