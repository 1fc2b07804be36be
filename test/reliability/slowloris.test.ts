import net from "node:net";
import { describe, expect, it } from "vitest";
import { AUTH, DEMO_APPID, LOGIN, fakeWeChatAndRoot, post } from "../helpers/http.ts";
import { createServer } from "../../runtime/http/index.ts";
import { DEFAULT_TIMEOUTS, resolveTimeouts } from "../../runtime/http/timeouts.ts";
import { recordFigures } from "./figures.ts";
import { scaled } from "./scale.ts";
import { serveDemo } from "./serveChild.ts";

// 200 connections that send their request head a byte a second (slowloris) against a real
// `jit serve`: a normal client still logs in (getLoginCode → loginByCode) within 1 s, and
// the headers timeout closes the slow connections.
const SLOW_CONNECTIONS = 200;
const LOGINS = scaled(60, 3);
const HEADERS_TIMEOUT_MS = 4_000;

describe("slow and hostile clients", () => {
  const ctx = fakeWeChatAndRoot();

  it(`${SLOW_CONNECTIONS} slowloris connections do not stop a login within 1 s`, { timeout: 600_000 }, async () => {
    const { child, base, port } = await serveDemo(ctx, "slow.sqlite", { JIT_HEADERS_TIMEOUT_MS: String(HEADERS_TIMEOUT_MS) });
    const fake = ctx.fake;
    const sockets: net.Socket[] = [];
    const timers: NodeJS.Timeout[] = [];
    try {
      // A registered user, to log in again and again.
      const first = await post(base, `${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId: "steady" }) });
      expect((await post(base, `${LOGIN}/register`, { bindCode: first.body.data.bindCode })).status).toBe(200);

      // The slow clients: a request head that never ends, one byte a second.
      const head = `POST ${LOGIN}/getLoginCode HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: ${"a".repeat(10_000)}`;
      const closedAfter: number[] = [];
      const answered: boolean[] = [];
      const startedAt = Date.now();
      await Promise.all(
        Array.from({ length: SLOW_CONNECTIONS }, () => new Promise<void>((resolve) => {
          const socket = net.connect(port, "127.0.0.1", () => resolve());
          sockets.push(socket);
          let sent = 0;
          let got = "";
          socket.on("data", (c) => (got += c.toString("latin1")));
          socket.on("error", () => {});
          socket.on("close", () => {
            closedAfter.push(Date.now() - startedAt);
            answered.push(got.includes("the request took too long to arrive"));
          });
          const timer = setInterval(() => {
            if (socket.destroyed || sent >= head.length) return clearInterval(timer);
            socket.write(head[sent++]!);
          }, 1_000);
          timers.push(timer);
        })),
      );

      // Meanwhile, a normal client logs in, one login after another.
      const latencies: number[] = [];
      for (let i = 0; i < LOGINS; i++) {
        const t = performance.now();
        const got = await post(base, `${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId: "steady" }) });
        const session = await post(base, `${AUTH}/loginByCode`, { loginCode: got.body.data.loginCode });
        expect(session.status).toBe(200);
        latencies.push(performance.now() - t);
        await new Promise((r) => setTimeout(r, 100));
      }
      // Every slow connection is cut by the headers timeout (checked every second), not left open.
      const deadline = Date.now() + HEADERS_TIMEOUT_MS + 5_000;
      while (closedAfter.length < SLOW_CONNECTIONS && Date.now() < deadline) await new Promise((r) => setTimeout(r, 100));
      const slowest = Math.max(...latencies);
      latencies.sort((a, b) => a - b);
      const p50 = latencies[Math.floor(latencies.length / 2)]!;
      const lastClose = Math.max(...closedAfter);
      recordFigures("slowloris", [
        {
          part: "slowloris",
          tried: `${SLOW_CONNECTIONS} connections sending headers a byte a second; ${LOGINS} logins (getLoginCode → loginByCode) meanwhile`,
          held: `slowest login ${slowest.toFixed(0)} ms (p50 ${p50.toFixed(0)} ms, limit 1,000 ms); ${closedAfter.length}/${SLOW_CONNECTIONS} slow connections closed by the ${HEADERS_TIMEOUT_MS / 1000} s headers timeout (${answered.filter(Boolean).length} told why, in the error envelope), the last after ${(lastClose / 1000).toFixed(1)} s`,
          ok: slowest < 1_000 && closedAfter.length === SLOW_CONNECTIONS,
        },
      ]);
      expect(slowest).toBeLessThan(1_000);
      expect(closedAfter.length).toBe(SLOW_CONNECTIONS);
      expect(lastClose).toBeLessThan(HEADERS_TIMEOUT_MS + 3_000);
    } finally {
      for (const t of timers) clearInterval(t);
      for (const s of sockets) s.destroy();
      child.kill("SIGKILL");
    }
  });

  it("sets the server's timeouts on purpose, and refuses a timeout of 0 or headers longer than the request", async () => {
    const stack = await createServer({ app: { appId: "none", listElements: () => [], getElementDefine: () => { throw new Error("none"); } } as never, logger: false, env: {} });
    try {
      const http = stack.server;
      expect({ headers: http.headersTimeout, request: http.requestTimeout, keepAlive: http.keepAliveTimeout, idle: http.timeout }).toEqual({
        headers: DEFAULT_TIMEOUTS.headersTimeoutMs,
        request: DEFAULT_TIMEOUTS.requestTimeoutMs,
        keepAlive: DEFAULT_TIMEOUTS.keepAliveTimeoutMs,
        idle: DEFAULT_TIMEOUTS.connectionTimeoutMs,
      });
    } finally {
      await stack.close();
    }
    expect(() => resolveTimeouts({}, { JIT_HEADERS_TIMEOUT_MS: "0" })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("JIT_HEADERS_TIMEOUT_MS") }));
    expect(() => resolveTimeouts({}, { JIT_HEADERS_TIMEOUT_MS: "40000" })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    expect(resolveTimeouts({}, { JIT_KEEP_ALIVE_TIMEOUT_MS: "750" }).keepAliveTimeoutMs).toBe(750);
  });
});
