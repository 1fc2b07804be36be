/**
 * Several `jit serve` processes on one database behave as one: real child processes on one
 * PostgreSQL database, and on one SQLite file, with the fake WeChat server. The same
 * wx.login code sent to both is exchanged with WeChat once and answered with one login code
 * (the code ledger is in the store); a bind code raced by 50 callers over both processes
 * registers one user, round after round, with no 5xx. Failed password logins count once
 * across both (the lockout is in the store too).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { startServers, type Cluster } from "./helpers/cluster.ts";
import { DEMO_APPID, DEMO_SECRET, LOGIN, makeTempRoot, post, removeDir } from "./helpers/http.ts";
import { createTestDatabase, PG_ADMIN_URL, type TestDatabase } from "./helpers/pgTest.ts";

const PASSWORD = "/api/demo/auths/loginTypes/myPasswordLogin";
const ROUNDS = 100;
const RACERS = 50;
/** Rounds run at once: keeps the file's run time near 10-20 s on a busy 2-core machine. */
const ROUNDS_AT_ONCE = 10;

for (const kind of ["PostgreSQL", "SQLite"] as const) {
  const skip = kind === "PostgreSQL" && !PG_ADMIN_URL;
  (skip ? describe.skip : describe)(`two jit serve processes on one ${kind} database`, () => {
    let fake: FakeWeChatServer;
    let root: string;
    let pgDb: TestDatabase | undefined;
    let cluster: Cluster;

    beforeAll(async () => {
      fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
      // Cheap scrypt parameters for the demo's password instance (N = 2^12): the lockout test hashes a few.
      root = await makeTempRoot({
        "apps/demo/elements/auths/loginTypes/myPasswordLogin/myPasswordLogin.json": JSON.stringify({ authConfig: { scrypt: { ln: 12, r: 8, p: 1 } } }),
      });
      if (kind === "PostgreSQL") pgDb = await createTestDatabase();
      const db = pgDb ? pgDb.url() : path.join(root, "data", "cluster.sqlite");
      // One process first: both would migrate at once otherwise (also safe, but slower to start).
      const first = await startServers(root, fake, db, 1);
      const second = await startServers(root, fake, db, 1);
      cluster = { bases: [...first.bases, ...second.bases], children: [...first.children, ...second.children], stop: async () => void (await Promise.all([first.stop(), second.stop()])) };
    }, 120_000);
    afterAll(async () => {
      await cluster?.stop();
      await fake?.close();
      if (root) await removeDir(root);
      await pgDb?.drop();
    });

    const call = (i: number, fn: string, body: unknown) => post(cluster.bases[i % cluster.bases.length]!, `${LOGIN}/${fn}`, body);

    it("20 concurrent getLoginCode with one code over both: one WeChat call, every answer the same login code", async () => {
      const first = await call(0, "getLoginCode", { code: fake.mintCode({ appId: DEMO_APPID, openId: "o-twenty" }) });
      expect((await call(1, "register", { bindCode: first.body.data.bindCode })).status).toBe(200);
      const code = fake.mintCode({ appId: DEMO_APPID, openId: "o-twenty" });
      const before = fake.stats().jscode2session;
      const replies = await Promise.all(Array.from({ length: 20 }, (_, i) => call(i, "getLoginCode", { code })));
      expect(replies.map((r) => r.status)).toEqual(Array(20).fill(200));
      expect(new Set(replies.map((r) => r.body.data.loginCode)).size).toBe(1);
      expect(fake.stats().jscode2session - before).toBe(1);
      // A later repeat, at the other process, still the same.
      expect((await call(1, "getLoginCode", { code })).body.data.loginCode).toBe(replies[0]!.body.data.loginCode);
    });

    it("an unregistered user's code raced over both: the bind code reaches one caller, the rest get WECHAT_CODE_USED", async () => {
      const code = fake.mintCode({ appId: DEMO_APPID, openId: "o-newcomer" });
      const replies = await Promise.all(Array.from({ length: 10 }, (_, i) => call(i, "getLoginCode", { code })));
      expect(replies.filter((r) => r.status === 200 && r.body.data.bindCode)).toHaveLength(1);
      for (const r of replies.filter((x) => x.status !== 200)) expect(r.body.error.code).toBe("WECHAT_CODE_USED");
    });

    // Regression: each process counted failed logins in its own memory, so two gave a guesser twice the free failures.
    it("password failures split over both processes lock the username at the 5th, and either answers 429", async () => {
      const at = (i: number, fn: string, body: unknown) => post(cluster.bases[i % cluster.bases.length]!, `${PASSWORD}/${fn}`, body);
      expect((await at(0, "register", { username: "lou", password: "lou's fine password" })).status).toBe(200);
      for (let i = 0; i < 5; i++) expect((await at(i, "getLoginCode", { username: "lou", password: `wrong guess ${i}` })).status).toBe(401);
      for (let i = 0; i < 2; i++) {
        const locked = await at(i, "getLoginCode", { username: "lou", password: "lou's fine password" });
        expect([locked.status, locked.body.error.code]).toEqual([429, "LOGIN_LOCKED"]);
        expect(Number(locked.headers.get("retry-after"))).toBeGreaterThan(0);
      }
    });

    it(`${RACERS} concurrent register calls with one bind code over both, × ${ROUNDS} rounds: exactly one success per round, no 5xx`, async () => {
      const round = async (n: number) => {
        const issued = await call(n, "getLoginCode", { code: fake.mintCode({ appId: DEMO_APPID, openId: `o-race-${n}` }) });
        const bindCode = issued.body.data.bindCode as string;
        const replies = await Promise.all(Array.from({ length: RACERS }, (_, i) => call(i, "register", { bindCode })));
        return {
          ok: replies.filter((r) => r.status === 200).length,
          serverErrors: replies.filter((r) => r.status >= 500).map((r) => r.text),
          others: [...new Set(replies.filter((r) => r.status !== 200).map((r) => r.body?.error?.code))],
        };
      };
      const results = [];
      for (let start = 0; start < ROUNDS; start += ROUNDS_AT_ONCE) {
        results.push(...(await Promise.all(Array.from({ length: ROUNDS_AT_ONCE }, (_, k) => round(start + k)))));
      }
      expect(results.flatMap((r) => r.serverErrors)).toEqual([]);
      expect(results.map((r) => r.ok)).toEqual(Array(ROUNDS).fill(1));
      expect([...new Set(results.flatMap((r) => r.others))]).toEqual(["BIND_CODE_INVALID"]);
    }, 240_000);
  });
}
