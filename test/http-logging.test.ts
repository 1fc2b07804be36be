import { Writable } from "node:stream";
import pino from "pino";
import { describe, expect, it } from "vitest";
import { accessLine, lazyChildLoggerFactory } from "../runtime/http/logging.ts";

/** The server's hand-built access line and its lazily made per-request logger (runtime/http/logging.ts). */
describe("access line", () => {
  it("is one JSON line with pino's fields, the query string redacted", () => {
    const line = accessLine({ id: "req-1", method: "POST", url: "/api/demo/x/getLoginCode?code=SECRET-CODE", ip: "127.0.0.1" }, 200, 1.23456, 1_700_000_000_000);
    expect(line.endsWith("\n")).toBe(true);
    expect(line).not.toContain("SECRET-CODE");
    expect(JSON.parse(line)).toEqual({
      level: 30,
      time: 1_700_000_000_000,
      reqId: "req-1",
      req: { method: "POST", url: "/api/demo/x/getLoginCode?[redacted]", remoteAddress: "127.0.0.1" },
      res: { statusCode: 200 },
      responseTime: 1.23,
      msg: "request completed",
    });
  });

  it("quotes whatever the client put in the path: control characters escaped, cut at 100 characters", () => {
    const url = '/api/"quoted"\\back\u0001slash\n';
    const parsed = JSON.parse(accessLine({ id: "r", method: "POST", url, ip: "::1" }, 404, 0, 0));
    expect(parsed.req.url).toBe('/api/\\"quoted\\"\\\\back\\u0001slash\\u000a');
    const long = JSON.parse(accessLine({ id: "r", method: "POST", url: `/api${"/x".repeat(1400)}?code=SECRET`, ip: "::1" }, 404, 0, 0));
    expect(long.req.url).toBe(`/api${"/x".repeat(48)}…?[redacted]`);
  });
});

describe("lazy request logger", () => {
  function capture() {
    const lines: Record<string, unknown>[] = [];
    const stream = new Writable({
      write(chunk, _enc, done) {
        lines.push(JSON.parse(String(chunk)));
        done();
      },
    });
    return { lines, logger: pino({ level: "info", base: undefined }, stream) };
  }

  it("makes the child only when something is logged at an enabled level, with its bindings", async () => {
    const { lines, logger } = capture();
    let made = 0;
    const parent = Object.assign(Object.create(logger), {
      child: (...args: Parameters<typeof logger.child>) => {
        made += 1;
        return logger.child(...args);
      },
      isLevelEnabled: (level: string) => logger.isLevelEnabled(level),
    });
    const lazy = lazyChildLoggerFactory.call(null, parent, { reqId: "r-7" }, {});
    expect(made).toBe(0);
    lazy.debug({ a: 1 }, "below the level");
    expect(made).toBe(0);
    lazy.info({ a: 2 }, "hello");
    lazy.error({ a: 3 }, "again");
    expect(made).toBe(1);
    await new Promise((resolve) => setImmediate(resolve));
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, reqId: "r-7", a: 2, msg: "hello" }),
      expect.objectContaining({ level: 50, reqId: "r-7", a: 3, msg: "again" }),
    ]);
    expect(lazy.level).toBe("info");
  });
});
