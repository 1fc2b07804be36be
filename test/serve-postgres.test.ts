/**
 * `jit serve` on PostgreSQL as a real child process: chosen by --db, JIT_DB or DATABASE_URL;
 * a database that cannot be opened stops start-up with STORE_OPEN_FAILED naming
 * host:port/database and never the password; a database that goes away and comes back is
 * survived by the same process.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { makeTempRoot, removeDir, TEST_MASTER_KEY } from "./helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";
import { createTestDatabase, describePg, PG_ADMIN_URL, randomName, type TestDatabase } from "./helpers/pgTest.ts";
import { startTcpProxy } from "./helpers/tcpProxy.ts";
import { PG_MIGRATIONS } from "../elements/auths/storage/postgres/index.ts";

const VERSIONS = PG_MIGRATIONS.map((m) => m.version);

const PASSWORD = "pw-Serve-6620";

describePg("jit serve on PostgreSQL", () => {
  let db: TestDatabase;
  let root: string;
  const children: Child[] = [];

  beforeAll(async () => {
    db = await createTestDatabase();
    root = await makeTempRoot();
  });
  afterAll(async () => {
    for (const c of children) c.kill("SIGKILL");
    await Promise.all(children.map((c) => c.exited));
    if (root) await removeDir(root);
    await db?.drop();
  });

  function serve(args: string[], env: Record<string, string | undefined>): Child {
    const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", ...args], {
      JIT_DB: undefined,
      DATABASE_URL: undefined,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "info",
      ...env,
    });
    children.push(child);
    return child;
  }

  async function started(child: Child): Promise<string> {
    return (await child.waitFor(/listening on (http:\/\/\S+) /))[1]!;
  }

  async function stopped(child: Child) {
    child.kill("SIGTERM");
    return child.exited;
  }

  const tablesIn = async (schema: string) =>
    (await db.query<{ version: number }>("SELECT version FROM jit_migrations WHERE owner = 'auths' ORDER BY version", [], schema).catch(() => [])).map((r) => r.version);

  for (const via of ["--db", "JIT_DB", "DATABASE_URL"] as const) {
    it(`serves from the database named by ${via}`, async () => {
      const schema = randomName("s");
      const url = db.url({ schema, password: PASSWORD });
      const child = via === "--db" ? serve(["--db", url], {}) : serve([], { [via]: url });
      const base = await started(child);
      const health = await fetch(`${base}/healthz`);
      expect(health.status).toBe(200);
      expect(await tablesIn(schema)).toEqual(VERSIONS);
      expect(await stopped(child)).toEqual({ code: 0, signal: null });
      expect(child.stdout() + child.stderr()).not.toContain(PASSWORD);
    });
  }

  it("--db wins over JIT_DB, which wins over DATABASE_URL", async () => {
    const [a, b, c] = [randomName("s"), randomName("s"), randomName("s")];
    const child = serve(["--db", db.url({ schema: a })], { JIT_DB: db.url({ schema: b }), DATABASE_URL: db.url({ schema: c }) });
    await started(child);
    expect(await stopped(child)).toEqual({ code: 0, signal: null });
    const second = serve([], { JIT_DB: db.url({ schema: b }), DATABASE_URL: db.url({ schema: c }) });
    await started(second);
    expect(await stopped(second)).toEqual({ code: 0, signal: null });
    expect([await tablesIn(a), await tablesIn(b), await tablesIn(c)]).toEqual([VERSIONS, VERSIONS, []]);
  });

  it("three servers starting at once on a fresh database: all serve, each migration applied once", async () => {
    const schema = randomName("s");
    const servers = [0, 1, 2].map(() => serve(["--db", db.url({ schema })], {}));
    const bases = await Promise.all(servers.map(started));
    for (const base of bases) expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const rows = await db.query<{ version: number }>("SELECT version FROM jit_migrations WHERE owner = 'auths' ORDER BY version", [], schema);
    expect(rows.map((r) => r.version)).toEqual(VERSIONS);
    for (const child of servers) expect(await stopped(child)).toEqual({ code: 0, signal: null });
  });

  it("a missing database or a refused connection: exit 1, one STORE_OPEN_FAILED line naming host:port/database, no password", async () => {
    const missing = serve(["--db", db.url({ password: PASSWORD }).replace(`/${db.name}`, "/jit_missing_db")], {});
    expect(await missing.exited).toEqual({ code: 1, signal: null });
    expect(missing.stderr()).toMatch(/^STORE_OPEN_FAILED cannot open database 127\.0\.0\.1:5432\/jit_missing_db: database "jit_missing_db" does not exist/m);

    const proxy = await startTcpProxy({ host: "127.0.0.1", port: 1 });
    const port = proxy.port;
    await proxy.close(); // nothing listens there now
    const refused = serve([], { DATABASE_URL: db.url({ password: PASSWORD, port }) });
    expect(await refused.exited).toEqual({ code: 1, signal: null });
    expect(refused.stderr()).toMatch(new RegExp(`^STORE_OPEN_FAILED cannot open database 127\\.0\\.0\\.1:${port}/${db.name}: .*ECONNREFUSED`, "m"));
    for (const c of [missing, refused]) {
      expect(c.stdout()).not.toContain("listening");
      expect(c.stdout() + c.stderr()).not.toContain(PASSWORD);
    }
  });

  it("the database goes away and comes back: /healthz 503 then 200 from the same process", async () => {
    const admin = new URL(PG_ADMIN_URL!);
    const proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    try {
      const child = serve(["--db", db.url({ schema: randomName("s"), host: "127.0.0.1", port: proxy.port, password: PASSWORD, query: "connect_timeout=2" })], {});
      const base = await started(child);
      const status = async () => (await fetch(`${base}/healthz`)).status;
      expect(await status()).toBe(200);
      await proxy.cut();
      expect(await status()).toBe(503);
      await proxy.restore();
      expect(await status()).toBe(200);
      expect(child.proc.exitCode).toBeNull();
      expect(await stopped(child)).toEqual({ code: 0, signal: null });
      expect(child.stderr()).toContain("STORE_UNAVAILABLE");
      expect(child.stdout() + child.stderr()).not.toContain(PASSWORD);
    } finally {
      await proxy.close();
    }
  });
});
