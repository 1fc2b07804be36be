import fc from "fast-check";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { CODE_TTL_MS } from "../../elements/auths/loginTypes/WeChatMiniType/codeLedger.ts";
import { ManualClock } from "../../runtime/clock.ts";
import { LOGIN, startStack, type Stack } from "../helpers/http.ts";
import { fuzzRequests, type FuzzRequest } from "./bodies.ts";
import { recordFigures } from "./figures.ts";
import { collectGarbage } from "./gc.ts";
import { internalDetail, isRegisteredCode } from "./leaks.ts";
import { servedRoutes, type ServedRoute } from "./routes.ts";
import { ownErrorCodesOf } from "../../runtime/http/openapi.ts";
import { servedElements } from "../../runtime/http/routes.ts";
import { shopFiles } from "../models/shopApp.ts";
import { scaled, SEED } from "./scale.ts";

// Fuzzed request bodies against every served route of a real server (Fastify listening on
// 127.0.0.1, the app on a SQLite file, the fake WeChat server): no 5xx, no stack frame or
// file path in any answer, every 4xx a registered code, no growth of the heap, and
// Object.prototype untouched.
const PER_ROUTE = scaled(10_000, 50);
const CONCURRENCY = 16;

interface Failure {
  route: string;
  index: number;
  kind: string;
  status: number;
  why: string;
  body: string;
}

describe("fuzzed bodies", () => {
  let stack: Stack;
  let token: string;
  // The app's clock: after the run it moves past the 5 minutes for which each wx.login
  // code's answer is remembered (by design, bounded), so what stays in memory after that is
  // what would stay for good.
  const clock = new ManualClock(Date.now());
  beforeAll(async () => {
    // With an app developer's own service and model (test/models/shopApp.ts): their routes are fuzzed too.
    stack = await startStack({ keepLogs: false, clock, extraFiles: shopFiles() });
    ({ token } = await stack.login((await stack.register("fuzz-owner"), "fuzz-owner")));
  });
  afterAll(async () => {
    await stack?.close();
  });

  async function send(route: ServedRoute, req: FuzzRequest): Promise<{ status: number; text: string }> {
    const headers: Record<string, string> = {};
    if (req.contentType !== null) headers["content-type"] = req.contentType;
    if (req.auth === "valid") headers.authorization = `Bearer ${token}`;
    if (req.auth === "garbage") headers.authorization = "Bearer \u00ff garbage";
    const res = await fetch(stack.base + route.url, { method: "POST", headers, body: new Uint8Array(req.body) });
    return { status: res.status, text: await res.text() };
  }

  function check(route: ServedRoute, index: number, req: FuzzRequest, status: number, text: string): Failure | null {
    const fail = (why: string): Failure => ({ route: route.url, index, kind: req.kind, status, why, body: text.slice(0, 300) });
    if (status === 0) return fail("no answer");
    if (status >= 500) return fail("5xx");
    const leaked = internalDetail(text, req.body.toString("latin1"));
    if (leaked) return fail(`internal detail ${leaked}`);
    if (status >= 400) {
      let code: unknown;
      try {
        code = JSON.parse(text).error?.code;
      } catch {
        return fail("4xx body is not JSON");
      }
      if (!isRegisteredCode(code) && !serviceCodes.has(code as string)) return fail(`unregistered code ${String(code)}`);
    }
    return null;
  }

  /** Codes the app's services declare (ServiceError): registered by the app, not the runtime. */
  const serviceCodes = new Set<string>();

  it(`${PER_ROUTE} generated bodies per served route: no 5xx, no internals, registered codes, flat heap`, { timeout: 600_000 }, async () => {
    const routes = servedRoutes(stack.app);
    expect(routes.length).toBeGreaterThan(3);
    expect(routes.map((r) => r.url)).toContain("/api/demo/services/OrderSvc/searchMine");
    for (const define of servedElements(stack.app)) for (const { code } of ownErrorCodesOf(define)) serviceCodes.add(code);
    const plan = routes.map((route, r) => ({ route, requests: fc.sample(fuzzRequests(route.decl), { seed: SEED + r, numRuns: PER_ROUTE }) }));
    const failures: Failure[] = [];
    const statuses = new Map<number, number>();
    const kinds = new Set<string>();
    let sent = 0;

    async function run(part: "warm-up" | "run"): Promise<void> {
      for (const { route, requests } of plan) {
        const slice = part === "warm-up" ? requests.slice(0, 50) : requests;
        let next = 0;
        await Promise.all(
          Array.from({ length: CONCURRENCY }, async () => {
            while (next < slice.length) {
              const index = next++;
              const req = slice[index]!;
              let answer: { status: number; text: string };
              try {
                answer = await send(route, req);
              } catch (err) {
                // No answer at all (the connection was reset or closed): a failure like a 5xx.
                answer = { status: 0, text: `no answer: ${String((err as Error).cause ?? err)}` };
              }
              const { status, text } = answer;
              if (part === "warm-up") continue;
              sent++;
              kinds.add(req.kind);
              statuses.set(status, (statuses.get(status) ?? 0) + 1);
              const failure = check(route, index, req, status, text);
              if (failure) failures.push(failure);
            }
          }),
        );
      }
    }

    // The heap is compared after a warm-up (JIT-compiled code, caches and pools filled).
    await run("warm-up");
    collectGarbage();
    const before = process.memoryUsage().heapUsed;
    await run("run");
    collectGarbage();
    const remembering = process.memoryUsage().heapUsed;
    clock.advance(CODE_TTL_MS + 1_000);
    // One more login sweeps what expired (the memories are swept on use, not by a timer).
    await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("fuzz-sweep") });
    collectGarbage();
    const after = process.memoryUsage().heapUsed;
    const growth = (after - before) / before;
    const polluted = ({} as Record<string, unknown>).polluted !== undefined;

    const fivexx = [...statuses].filter(([s]) => s >= 500).reduce((n, [, c]) => n + c, 0);
    const stackLeaks = failures.filter((f) => f.why.startsWith("internal")).length;
    const unanswered = failures.filter((f) => f.why === "no answer").length;
    const unregistered = failures.filter((f) => f.why.startsWith("unregistered") || f.why.includes("not JSON")).length;
    const mib = (n: number) => `${(n / 1024 / 1024).toFixed(1)} MiB`;
    recordFigures("fuzz", [
      {
        part: "fuzzed bodies",
        tried: `${sent.toLocaleString("en")} bodies (${PER_ROUTE.toLocaleString("en")} × ${routes.length} routes, seed ${SEED}, ${kinds.size} kinds)`,
        held: `${unanswered} unanswered; ${fivexx} × 5xx; ${stackLeaks} stack frames or paths; ${unregistered} 4xx without a registered code; Object.prototype ${polluted ? "POLLUTED" : "clean"}`,
        ok: failures.length === 0 && !polluted,
      },
      {
        part: "fuzzed bodies: memory",
        tried: "heap after a forced GC: after a warm-up, after the run, and once the 5-minute memory of wx.login codes has expired",
        held: `${mib(before)} → ${mib(remembering)} (${(((remembering - before) / before) * 100).toFixed(1)}%, codes remembered) → ${mib(after)} (${(growth * 100).toFixed(1)}%, limit 10%)`,
        ok: growth <= 0.1,
      },
    ]);
    expect(failures.slice(0, 5), `replay with JIT_RELIABILITY_SEED=${SEED}`).toEqual([]);
    expect(polluted).toBe(false);
    expect(growth).toBeLessThanOrEqual(0.1);
    // Every status seen was an answer the server chose (no socket errors: fetch would have thrown).
    expect(sent).toBe(PER_ROUTE * routes.length);
  });
});
