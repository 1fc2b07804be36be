import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../runtime/storage/sqlite/index.ts";
import { startFakeWeChatServer, type FakeWeChatServer } from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";
import { DEMO_APPID, DEMO_SECRET, LOGIN, TEST_MASTER_KEY, makeTempRoot, post, removeDir } from "./helpers/http.ts";
import { JIT_BIN, startChild } from "./helpers/httpChild.ts";

// Graceful shutdown of `jit serve` (SIGTERM): in-flight requests finish, the database is
// closed, exit 0, and no registration answered 200 is lost.
describe("jit serve graceful shutdown", () => {
  let fake: FakeWeChatServer;
  let root: string;
  beforeAll(async () => {
    fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    root = await makeTempRoot();
  });
  afterAll(async () => {
    await fake?.close();
    if (root) await removeDir(root);
  });

  it("finishes in-flight registrations on SIGTERM and loses none that answered 200", async () => {
    const dbFile = path.join(root, "data", "shutdown.sqlite");
    const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", dbFile], {
      WECHAT_API_BASE: fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_RATE_LIMIT_IP: "off",
      JIT_RATE_LIMIT_OPENID: "off",
    });
    try {
      const [, base] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      // WeChat answers slowly, so exchanges are still in flight when SIGTERM arrives.
      fake.script({ delayMs: 100, times: 100_000 });

      // Eight clients register new users one after another until the server goes away.
      type Outcome = { openId: string; first?: number; register?: number; userId?: number };
      const results: Outcome[] = [];
      let stopped = false;
      const worker = async (w: number) => {
        for (let i = 0; !stopped; i++) {
          const out: Outcome = { openId: `shutdown-${w}-${i}` };
          results.push(out);
          try {
            const first = await post(base!, `${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId: out.openId }) });
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
