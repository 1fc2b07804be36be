/**
 * `jit serve --workers N`: N processes on one port (node:cluster). The primary announces one
 * URL once every worker listens, replaces (and logs) a worker that dies, drains them all on
 * SIGTERM, and stops with exit 1 when workers cannot start (a crash loop at start-up).
 */
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { DEMO_APPID, DEMO_SECRET, LOGIN, makeTempRoot, post, removeDir, TEST_MASTER_KEY } from "./helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";
import { childPids, UNLIMITED, until } from "./helpers/cluster.ts";

describe("jit serve --workers", () => {
  let fake: FakeWeChatServer;
  let root: string;
  const children: Child[] = [];

  beforeAll(async () => {
    fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    root = await makeTempRoot();
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    await fake?.close();
    if (root) await removeDir(root);
  });

  function serve(args: string[], env: Record<string, string | undefined> = {}): Child {
    const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", ...args], {
      JIT_DB: undefined,
      DATABASE_URL: undefined,
      WECHAT_API_BASE: fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "info",
      ...UNLIMITED,
      ...env,
    });
    children.push(child);
    return child;
  }

  it("serves one port from 2 workers; a killed worker is replaced and logged; SIGTERM drains all and exits 0", async () => {
    const child = serve(["--workers", "2", "--db", path.join(root, "data", "workers.sqlite")]);
    const [, base] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) with 2 workers/, 60_000);
    expect(child.stdout().match(/listening on/g)).toHaveLength(1);
    const workers = childPids(child.proc.pid!);
    expect(workers).toHaveLength(2);

    const register = async (openId: string) => {
      const issued = await post(base!, `${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId }) });
      return post(base!, `${LOGIN}/register`, { bindCode: issued.body.data.bindCode });
    };
    expect((await register("o-w1")).status).toBe(200);

    process.kill(workers[0]!, "SIGKILL");
    await until(() => child.stderr().includes("worker died; starting a new one"));
    await until(() => childPids(child.proc.pid!).filter((p) => !workers.includes(p)).length === 1);
    await until(() => child.stderr().match(/Server listening at/g)?.length === 3, 60_000);
    const line = child.stderr().split("\n").find((l) => l.includes("worker died"))!;
    expect(JSON.parse(line)).toMatchObject({ level: 50, pid: workers[0], signal: "SIGKILL" });
    // Served meanwhile and after, by whichever worker the primary hands the connection.
    for (let i = 0; i < 6; i++) expect((await register(`o-w2-${i}`)).status).toBe(200);

    const live = childPids(child.proc.pid!);
    child.kill("SIGTERM");
    expect(await child.exited, child.stderr().slice(-3000)).toEqual({ code: 0, signal: null });
    expect(child.stderr().match(/"msg":"stopped"/g)?.length).toBeGreaterThanOrEqual(2);
    for (const pid of live) expect(() => process.kill(pid, 0)).toThrow();
  }, 90_000);

  // Regression: each process counted on its own, so N workers gave a client N times the limit.
  it("the rate limit holds across workers: 2 workers give a client the limit once, not twice", async () => {
    const child = serve(["--workers", "2", "--db", path.join(root, "data", "limits.sqlite")], { JIT_RATE_LIMIT_IP: "10/minute" });
    const [, base] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+) with 2 workers/, 60_000);
    // One connection per request, so the primary spreads them over both workers.
    const replies = await Promise.all(
      Array.from({ length: 30 }, () => post(base!, `${LOGIN}/getLoginCode`, { code: "never-minted-code" }, { headers: { connection: "close" } })),
    );
    expect(replies.filter((r) => r.status !== 429)).toHaveLength(10);
    expect(replies.filter((r) => r.status === 429)).toHaveLength(20);
    child.kill("SIGTERM");
    expect((await child.exited).code).toBe(0);
  }, 90_000);

  // Regression: each worker generated its own admin token and printed its own console line,
  // so the printed link worked on 1 request in N.
  it("--console --docs with 2 workers: one console line, one generated admin token every worker accepts", async () => {
    const child = serve(["--workers", "2", "--console", "--docs", "--db", path.join(root, "data", "console.sqlite")], { JIT_ADMIN_TOKEN: undefined });
    const [, token] = await child.waitFor(/console at http:\/\/127\.0\.0\.1:\d+\/console\/#token=([A-Za-z0-9_-]+)/, 60_000);
    const [, base] = /listening on (http:\/\/127\.0\.0\.1:\d+) with 2 workers/.exec(child.stdout())!;
    expect(child.stdout().match(/console at/g)).toHaveLength(1);
    expect(child.stdout().match(/API page at/g)).toHaveLength(1);
    // One connection per request, so both workers answer some.
    const statuses = await Promise.all(
      Array.from({ length: 12 }, async () => (await fetch(`${base}/console/api/users`, { headers: { authorization: `Bearer ${token}`, connection: "close" } })).status),
    );
    expect(statuses).toEqual(Array(12).fill(200));
    const refused = await fetch(`${base}/console/api/users`, { headers: { authorization: "Bearer not-the-admin-token", connection: "close" } });
    expect(refused.status).toBe(401);
    expect(child.stderr()).not.toContain(token!);
  }, 90_000);

  it("workers that cannot start (database refused) stop the primary with exit 1, naming why", async () => {
    const child = serve(["--workers", "2", "--db", "postgres://jit@127.0.0.1:1/nowhere?connect_timeout=2"]);
    const exit = await child.exited;
    expect(exit.code).toBe(1);
    expect(child.stderr()).toContain("STORE_OPEN_FAILED");
    expect(child.stderr()).toContain("worker failed to start");
    expect(child.stdout()).not.toContain("listening on");
  }, 60_000);

  it("refuses a bad --workers value with a usage error before forking", async () => {
    const child = serve(["--workers", "many"]);
    expect((await child.exited).code).toBe(2);
    expect(child.stderr()).toContain('--workers must be a number of processes from 1 to 256, or "auto"');
  });
});
