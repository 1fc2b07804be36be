/**
 * PostgreSQL going away under a running server, simulated with a TCP proxy between the
 * store and the shared server (which other work on this machine uses and must stay up):
 * 503 STORE_UNAVAILABLE on the affected requests and on /healthz while it is gone, normal
 * answers once it is back, with no restart. Also the whole login flow on PostgreSQL, with
 * no code, token or key in clear in any table.
 */
import { afterAll, beforeAll, expect, it } from "vitest";
import { AUTH, DEMO_APPID, LOGIN, startStack, type Reply, type Stack } from "./helpers/http.ts";
import { createTestDatabase, describePg, PG_ADMIN_URL, type TestDatabase } from "./helpers/pgTest.ts";
import { startTcpProxy, type TcpProxy } from "./helpers/tcpProxy.ts";

const PASSWORD = "pw-Outage-9913";

describePg("a server on PostgreSQL", () => {
  let db: TestDatabase;
  let proxy: TcpProxy;
  let stack: Stack;

  beforeAll(async () => {
    db = await createTestDatabase();
    const admin = new URL(PG_ADMIN_URL!);
    proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
    // The server is trust-authenticated: the password is only there to show it never leaks.
    stack = await startStack({ db: db.url({ host: "127.0.0.1", port: proxy.port, password: PASSWORD, query: "connect_timeout=1&statement_timeout=500" }) });
  });
  afterAll(async () => {
    await stack?.close();
    await proxy?.close();
    await db?.drop();
  });

  const me = (token: string) => stack.call(`${AUTH}/getCurrentUser`, {}, { token });
  const health = async () => {
    const res = await fetch(`${stack.base}/healthz`);
    return { status: res.status, body: (await res.json()) as { status: string; error?: { code: string } } };
  };
  const expectUnavailable = (reply: Reply) => {
    expect(reply.status, reply.text).toBe(503);
    expect(reply.body.error).toMatchObject({ code: "STORE_UNAVAILABLE", message: "the database does not answer; retry in a moment" });
    expect(reply.headers.get("retry-after")).toBe("5");
  };

  it("runs the login flow; codes, tokens and session keys are never stored in clear", async () => {
    const userId = await stack.register("o-flow");
    const sessionKey = Buffer.alloc(16, 0x5a).toString("base64");
    const first = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.fake.mintCode({ appId: DEMO_APPID, openId: "o-flow", sessionKey }) });
    expect(first.status, first.text).toBe(200);
    const loginCode = first.body.data.loginCode as string;
    const session = await stack.call(`${AUTH}/loginByCode`, { loginCode });
    expect(session.body.data).toMatchObject({ userId, token: expect.any(String) });
    const token = session.body.data.token as string;
    expect((await me(token)).body.data).toMatchObject({ userId });

    const tables = ["users", "corps", "corp_members", "identities", "bind_codes", "login_codes", "login_sessions", "session_keys"];
    const dump = JSON.stringify(await Promise.all(tables.map((t) => db.query(`SELECT * FROM ${t}`))));
    expect(dump).toContain("o-flow");
    expect(await db.query("SELECT open_id FROM session_keys")).toContainEqual({ open_id: "o-flow" }); // stored, sealed
    for (const secret of [loginCode, token, sessionKey]) expect(dump).not.toContain(secret);
  });

  it("database silent (connections open, no answers): 503 within the timeouts, not a hang; normal answers once it answers again", async () => {
    await stack.register("o-silent");
    const { token, userId } = await stack.login("o-silent");
    proxy.freeze();
    try {
      const started = Date.now();
      expectUnavailable(await me(token));
      // statement_timeout=500 in the URL: the client gives up 1 s later at most; connect_timeout=1 s.
      expect(Date.now() - started).toBeLessThan(4000);
      expect((await health()).status).toBe(503);
    } finally {
      proxy.thaw();
    }
    expect(await health()).toEqual({ status: 200, body: { status: "ok" } });
    expect((await me(token)).body.data).toMatchObject({ userId });
  });

  it("database gone: 503 STORE_UNAVAILABLE on the affected requests and on /healthz; back: normal answers, no restart", async () => {
    await stack.register("o-out");
    const { token, userId } = await stack.login("o-out");
    expect((await me(token)).status).toBe(200);
    expect(await health()).toEqual({ status: 200, body: { status: "ok" } });

    // Idle pooled connections cut: heard and logged, never an unheard 'error' that ends the process.
    await Promise.all(Array.from({ length: 4 }, () => me(token)));
    await proxy.cut();
    await new Promise((r) => setTimeout(r, 100));
    expect(stack.logs()).toContain("broke while idle");
    await proxy.restore();
    expect((await me(token)).status).toBe(200);

    // Under load: requests in flight while the connections are cut.
    let stop = false;
    let answeredOk!: () => void;
    // The cut waits for the load's first answers, not for a fixed time: on a busy machine the
    // first batch can take longer than any fixed delay, and then nothing was in flight before.
    const loadRunning = new Promise<void>((resolve) => (answeredOk = resolve));
    const load = (async () => {
      const statuses: number[] = [];
      while (!stop) {
        const replies = await Promise.all(Array.from({ length: 8 }, () => me(token)));
        for (const r of replies) {
          statuses.push(r.status);
          if (r.status !== 200) expectUnavailable(r);
        }
        if (statuses.includes(200)) answeredOk();
      }
      return statuses;
    })();
    await Promise.race([loadRunning, load]); // a load that fails ends the wait with its error
    await proxy.cut();
    await new Promise((r) => setTimeout(r, 300));

    expectUnavailable(await me(token));
    expectUnavailable(await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("o-new-during") }));
    const down = await health();
    expect(down.status).toBe(503);
    expect(down.body).toMatchObject({ status: "unavailable", error: { code: "STORE_UNAVAILABLE" } });

    await proxy.restore();
    stop = true;
    const statuses = await load;
    expect(statuses).toContain(200);
    expect(statuses).toContain(503);

    expect(await health()).toEqual({ status: 200, body: { status: "ok" } });
    expect((await me(token)).body.data).toMatchObject({ userId });
    const again = await stack.register("o-after");
    expect((await stack.login("o-after")).userId).toBe(again);

    const logs = stack.logs();
    expect(logs).toContain("STORE_UNAVAILABLE");
    expect(logs).toContain(`127.0.0.1:${proxy.port}/${db.name}`);
    expect(logs).not.toContain(PASSWORD);
  });
});
