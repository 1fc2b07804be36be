import { execFile } from "node:child_process";
import { writeFile } from "node:fs/promises";
import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { JitError, StoreError } from "../runtime/errors/index.ts";
import { openStore } from "../elements/auths/storage/openStore.ts";
import { parsePostgresUrl } from "../runtime/database/postgres/config.ts";
import { openPostgresStore, PG_LATEST_VERSION, PG_MIGRATIONS, type PostgresStore } from "../elements/auths/storage/postgres/index.ts";
import { parseInt8 } from "../runtime/database/postgres/types.ts";
import { PG_SQL, type PgStatementName } from "../elements/auths/storage/postgres/sql.ts";
import { ADMIN_PG } from "../elements/auths/storage/postgres/adminReads.ts";
import { runStoreContract } from "./store.contract.ts";
import { createTestDatabase, describePg, PG_ADMIN_URL, randomName, type TestDatabase } from "./helpers/pgTest.ts";
import { startTcpProxy } from "./helpers/tcpProxy.ts";
import { REPO } from "./helpers/http.ts";
import { storeTempDir } from "./helpers/storeTemp.ts";
import { hashToken, newSecretToken } from "../runtime/security/tokens.ts";

const T0 = Date.UTC(2026, 0, 1);
let db: TestDatabase;

describePg("PostgreSQL store", () => {
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const open: PostgresStore[] = [];
  afterAll(async () => {
    await Promise.all(open.map((s) => s.close()));
  });
  async function storeIn(schema: string): Promise<PostgresStore> {
    const store = await openPostgresStore({ url: db.url({ schema }) });
    open.push(store);
    return store;
  }

  /**
   * A bind code saved through `store`, and a way to run work while another session holds
   * the code's row: a write to it (consume, redeem) waits until the work is done.
   */
  async function lockableCode(store: PostgresStore, schema: string) {
    const hash = hashToken(newSecretToken());
    await store.saveBindCode(hash, { appId: "wx1", openId: `o-${hash.slice(0, 8)}`, unionId: null, expiresAt: T0 + 60_000 }, T0);
    const whileLocked = <T>(work: () => Promise<T>): Promise<T> =>
      db.session(schema, async (c) => {
        await c.query("BEGIN");
        await c.query("SELECT 1 FROM bind_codes WHERE code_hash = $1 FOR UPDATE", [hash]);
        try {
          return await work();
        } finally {
          await c.query("ROLLBACK");
        }
      });
    return { hash, whileLocked };
  }

  /** A store in a schema of its own, and peers (pools of their own) on it; cleanup closes them and drops the schema. */
  async function schemaStore() {
    const schema = randomName("s");
    const store = await openPostgresStore({ url: db.url({ schema }) });
    const peers: PostgresStore[] = [];
    return {
      store,
      openPeer: async () => {
        const peer = await openPostgresStore({ url: db.url({ schema }) });
        peers.push(peer);
        return peer;
      },
      cleanup: async () => {
        await Promise.all([store, ...peers].map((s) => s.close()));
        await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      },
    };
  }

  runStoreContract("PostgresStore", schemaStore);

  describe("migrations", () => {
    it("records each version in the ledger (jit_migrations, owner auths) and re-opens without re-applying", async () => {
      expect(PG_MIGRATIONS.map((m) => m.version)).toEqual(PG_MIGRATIONS.map((_, i) => i + 1)); // consecutive from 1
      const schema = randomName("s");
      const first = await openPostgresStore({ url: db.url({ schema }) });
      const user = await first.createUser({ name: "kept" }, T0);
      await first.close();
      const again = await storeIn(schema);
      expect(await again.getUser(user.userId)).toEqual(user);
      const rows = await db.query<{ version: number; name: string }>("SELECT version, name FROM jit_migrations WHERE owner = 'auths' ORDER BY version", [], schema);
      expect(rows).toEqual(PG_MIGRATIONS.map((m) => ({ version: m.version, name: m.name })));
    });

    it("several processes starting at once on a fresh database: each migration applied once, every open succeeds", async () => {
      const schema = randomName("s");
      // Separate pools and connections, as separate processes have: they meet at the advisory lock.
      const stores = await Promise.all(Array.from({ length: 6 }, () => storeIn(schema)));
      const rows = await db.query<{ version: number }>("SELECT version FROM jit_migrations WHERE owner = 'auths'", [], schema);
      expect(rows.map((r) => r.version).sort()).toEqual(PG_MIGRATIONS.map((m) => m.version));
      const users = await Promise.all(stores.map((s, i) => s.createUser({ name: `u${i}` }, T0)));
      expect(new Set(users.map((u) => u.userId)).size).toBe(6);
    });

    it("refuses a database migrated by a newer runtime: STORE_MIGRATION_FAILED naming host:port/database", async () => {
      const schema = randomName("s");
      await storeIn(schema);
      await db.query("INSERT INTO jit_migrations (owner, version, name, applied_at) VALUES ('auths', $1, 'from the future', 0)", [PG_LATEST_VERSION + 5], schema);
      const err = await openPostgresStore({ url: db.url({ schema }) }).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: "STORE_MIGRATION_FAILED" });
      expect((err as Error).message).toContain(`127.0.0.1:5432/${db.name}`);
      expect((err as Error).message).toMatch(/newer than this runtime/);
    });
  });

  describe("statements", () => {
    // With sequential scans priced out, a statement that still plans one has no index to use.
    it("every statement finds its rows through a primary key or an index", async () => {
      const schema = randomName("s");
      await storeIn(schema);
      const args: Record<PgStatementName, unknown[]> = {
        insertUser: ["n", T0],
        insertUserInCorp: ["n", T0, "c"],
        getUser: [1],
        setUserPhone: ["+8613800138000", 1],
        userIdByPhone: ["+8613800138000"],
        upsertCorp: ["c", "C"],
        addMember: ["c", 1, T0],
        joinCorp: ["c", "C", 1, T0],
        listUserCorps: [1],
        bindingByOpenId: ["a", "o"],
        bindingByUser: ["a", 1],
        userIdByUnionId: ["u"],
        insertBinding: ["a", "o", "u", 1, T0],
        insertBoundUser: ["n", T0, "a", "o", "u"],
        deleteBinding: ["a", 1, T0],
        wasUnbound: ["a", "o"],
        insertBindCode: ["h", "a", "o", "u", T0, T0],
        consumeBindCode: [T0, "h"],
        insertLoginCode: ["h", "a", 1, T0, T0, "t", "o"],
        consumeLoginCode: [T0, "h"],
        consumeLoginCodeInCorp: [T0, "h", "c"],
        loginCodeUnused: ["h"],
        firstCorpOf: [1],
        insertSession: ["h", 1, "c", T0, T0, "t", "a", "o"],
        getSession: ["h", T0],
        deleteSession: ["h"],
        putSessionKey: ["a", "o", "s", T0],
        getSessionKey: ["a", "o"],
        claimWxCode: ["h", "a", "u", "x", T0, T0, T0],
        getWxCode: ["h"],
        settleWxCode: ["spent", "s", T0, "h", "x"],
        hitRateWindow: ["k", T0, 1000],
        loginFailures: ["{a,b}"],
        lockLoginFailures: ["{a,b}"],
        putLoginFailures: ["{a,b}", "{1,2}", "{0,0}", "{0,0}"],
        clearLoginFailures: ["{a,b}"],
        purge: [T0],
        getAccessToken: ["a"],
        claimTokenFetch: ["a", "o", T0, T0, T0],
        saveAccessToken: ["a", "o", "s", T0],
        invalidateAccessToken: ["a", "s"],
        claimForceRefresh: ["a", 1, T0, T0, 20],
        ping: [],
        passwordByUsername: ["r", "u"],
        passwordByUser: [1, "r"],
        insertPasswordUser: ["n", T0, "r", "u", "h"],
        insertPassword: ["r", "u", 1, "h", T0],
        updatePassword: ["h", T0, 1, "r", true, "t"],
        deletePassword: [1, "r", T0],
      };
      const literal = (a: unknown) => (typeof a === "string" ? `'${a}'` : String(a));
      const plans = await db.session(schema, async (c) => {
        await c.query("SET enable_seqscan = off");
        const out: Record<string, string> = {};
        for (const name of Object.keys(PG_SQL) as PgStatementName[]) {
          await c.query(`PREPARE p AS ${PG_SQL[name]}`);
          const list = args[name].map(literal).join(", ");
          const { rows } = await c.query<{ "QUERY PLAN": string }>(`EXPLAIN EXECUTE p${list ? `(${list})` : ""}`);
          await c.query("DEALLOCATE p");
          out[name] = rows.map((r) => r["QUERY PLAN"]).join("\n");
        }
        return out;
      });
      for (const [name, plan] of Object.entries(plans)) {
        expect(plan, `${name}:\n${plan}`).not.toMatch(/Seq Scan|ERROR/);
      }
    });

    it("the console's search and session statements go through indexes too (the page and the count of all users may scan)", async () => {
      const schema = randomName("s");
      await storeIn(schema);
      const args: Partial<Record<keyof typeof ADMIN_PG, unknown[]>> = {
        searchIds: [1, "o"],
        users: ["{1,2}"],
        bindings: ["{1,2}"],
        corps: ["{1,2}"],
        liveCounts: ["{1,2}", T0],
        sessions: [1, T0],
        deleteUserSession: [1, "0123456789abcdef"],
      };
      const literal = (a: unknown) => (typeof a === "string" ? `'${a}'` : String(a));
      const plans = await db.session(schema, async (c) => {
        await c.query("SET enable_seqscan = off");
        const out: Record<string, string> = {};
        for (const [name, list] of Object.entries(args)) {
          await c.query(`PREPARE p AS ${ADMIN_PG[name as keyof typeof ADMIN_PG]}`);
          const { rows } = await c.query<{ "QUERY PLAN": string }>(`EXPLAIN EXECUTE p(${list!.map(literal).join(", ")})`);
          await c.query("DEALLOCATE p");
          out[name] = rows.map((r) => r["QUERY PLAN"]).join("\n");
        }
        return out;
      });
      for (const [name, plan] of Object.entries(plans)) expect(plan, `${name}:\n${plan}`).not.toMatch(/Seq Scan|ERROR/);
    });
  });

  describe("numbers", () => {
    it("bigint columns come back as numbers, exact up to 2^53 - 1, and a larger value is refused, not rounded", async () => {
      const store = await storeIn(randomName("s"));
      const far = Number.MAX_SAFE_INTEGER;
      const user = await store.createUser({ name: "far" }, far);
      expect(await store.getUser(user.userId)).toEqual({ userId: user.userId, name: "far", createdAt: far });
      expect(typeof user.userId).toBe("number");
      expect(parseInt8("9007199254740991")).toBe(far);
      expect(() => parseInt8("9007199254740993")).toThrow(RangeError);
    });
  });

  describe("a connection lost in the middle of a transaction", () => {
    it("fails that call with STORE_UNAVAILABLE, leaves the code unused, does not end the process, and the next call works", async () => {
      const admin = new URL(PG_ADMIN_URL!);
      const proxy = await startTcpProxy({ host: admin.hostname, port: Number(admin.port || 5432) });
      const schema = randomName("s");
      const store = await openPostgresStore({ url: db.url({ schema, host: "127.0.0.1", port: proxy.port, query: "connect_timeout=1" }) });
      open.push(store);
      try {
        const { hash: h, whileLocked } = await lockableCode(store, schema);
        // The redeem waits on the row lock inside its transaction when the connection goes.
        const redeemed = await whileLocked(async () => {
          const pending = store.redeemBindCode(h, T0, { appId: "wx1" }).catch((e: unknown) => e);
          await new Promise((r) => setTimeout(r, 300));
          await proxy.cut();
          return pending;
        });
        expect(redeemed).toBeInstanceOf(StoreError);
        expect(redeemed).toMatchObject({ code: "STORE_UNAVAILABLE" });
        await expect(store.ping()).rejects.toMatchObject({ code: "STORE_UNAVAILABLE" });
        await proxy.restore();
        expect(await store.redeemBindCode(h, T0, { appId: "wx1" })).toMatchObject({ status: "ok" });
      } finally {
        await proxy.close();
      }
    });
  });

  describe("connections ended by the server (as when it restarts)", () => {
    it("idle ones are heard and dropped, and the next calls open new ones", async () => {
      const schema = randomName("s");
      const heard: { database: string; reason: string }[] = [];
      const store = await openPostgresStore({ url: db.url({ schema }), onIdleError: (info) => heard.push(info) });
      open.push(store);
      await Promise.all(Array.from({ length: 4 }, () => store.ping())); // a few pooled connections, now idle
      const [{ ended }] = await db.query<{ ended: number }>(
        "SELECT count(pg_terminate_backend(pid))::int AS ended FROM pg_stat_activity WHERE datname = current_database() AND application_name = 'jit-runtime'",
      );
      expect(ended).toBeGreaterThan(0);
      await new Promise((r) => setTimeout(r, 100));
      expect(heard.length).toBeGreaterThan(0);
      expect(heard[0]).toEqual({ database: `127.0.0.1:5432/${db.name}?schema=${schema}`, reason: expect.stringMatching(/terminat/) });
      await store.ping();
      expect(await store.createUser({ name: "after" }, T0)).toMatchObject({ name: "after" });
    });
  });

  describe("prepared statements", () => {
    it("on by default; prepared_statements=off sends every statement unnamed, with the same results", async () => {
      expect(parsePostgresUrl("postgres://db.internal/appdb").preparedStatements).toBe(true);
      expect(parsePostgresUrl("postgres://db.internal/appdb?prepared_statements=off").preparedStatements).toBe(false);
      for (const setting of ["on", "off"]) {
        const schema = randomName("s");
        const store = await openPostgresStore({ url: db.url({ schema, query: `prepared_statements=${setting}&pool_max=2` }) });
        open.push(store);
        // Each statement twice or more, over both pooled connections.
        const users = await Promise.all([1, 2, 3, 4].map((i) => store.createUser({ name: `p${i}` }, T0)));
        for (const u of users) expect(await store.getUser(u.userId)).toMatchObject({ name: u.name });
        await store.saveBindCode("a".repeat(64), { appId: "wx1", openId: "o-p", unionId: null, expiresAt: T0 + 60_000 }, T0);
        expect(await store.consumeCode("bind", "a".repeat(64), T0)).toMatchObject({ status: "ok" });
        expect(await store.consumeCode("bind", "a".repeat(64), T0)).toEqual({ status: "invalid" }); // spent
      }
    });
  });

  describe("pool limits", () => {
    it("pool_max bounds the connections; a call that cannot get one within connect_timeout is STORE_UNAVAILABLE, not a wait without end", async () => {
      const schema = randomName("s");
      const store = await openPostgresStore({ url: db.url({ schema, query: "pool_max=1&connect_timeout=1" }) });
      open.push(store);
      const { hash: h, whileLocked } = await lockableCode(store, schema);
      const holding = whileLocked(async () => {
        const redeem = store.redeemBindCode(h, T0, { appId: "wx1" }); // holds the one connection, waiting on the lock
        await new Promise((r) => setTimeout(r, 200));
        const started = Date.now();
        await expect(store.getUser(1)).rejects.toMatchObject({ code: "STORE_UNAVAILABLE", message: expect.stringContaining("timeout exceeded when trying to connect") });
        expect(Date.now() - started).toBeGreaterThanOrEqual(900);
        return { redeem }; // wrapped: whileLocked must not wait for it before letting the row go
      });
      expect(await (await holding).redeem).toMatchObject({ status: "ok" });
      expect(await store.getUser(1)).toMatchObject({ userId: 1 });
    });
  });

  describe("statement timeout", () => {
    it("a statement over statement_timeout is cancelled by the server: STORE_UNAVAILABLE, and nothing it did stays", async () => {
      const schema = randomName("s");
      const store = await openPostgresStore({ url: db.url({ schema, query: "statement_timeout=300" }) });
      open.push(store);
      const { hash: h, whileLocked } = await lockableCode(store, schema);
      const err = await whileLocked(() => store.consumeCode("bind", h, T0).catch((e: unknown) => e));
      expect(err).toMatchObject({ code: "STORE_UNAVAILABLE", message: expect.stringContaining("SQLSTATE 57014") });
      expect(await store.consumeCode("bind", h, T0)).toMatchObject({ status: "ok" });
    });
  });

  describe("process lifetime", () => {
    it("idle pooled connections do not keep the process alive: a script that never closes the store still exits", async () => {
      const t = await storeTempDir();
      try {
        const script = path.join(t.dir, "script.mts");
        await writeFile(
          script,
          [
            `import { openStore } from ${JSON.stringify(path.join(REPO, "elements/auths/storage/openStore.ts"))};`,
            `const store = await openStore(${JSON.stringify(db.url({ schema: randomName("s") }))});`,
            `await store.upsertCorp({ corpId: "c1", corpName: "One" });`,
            `console.log("written");`,
          ].join("\n"),
        );
        const started = Date.now();
        const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
          execFile(process.execPath, [path.join(REPO, "cli/run-ts.js"), script], { cwd: REPO, timeout: 20_000 }, (error, stdout) =>
            resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout }),
          );
        });
        expect(result).toEqual({ code: 0, stdout: "written\n" });
        expect(Date.now() - started).toBeLessThan(15_000); // not the 30 s idle timeout of a pooled connection
      } finally {
        await t.remove();
      }
    });
  });

  describe("configuration errors: STORE_OPEN_FAILED naming host:port/database, never the password", () => {
    const PASSWORD = "pw-Sekr1t-4471";

    async function openFailure(url: string): Promise<JitError> {
      const err = await openStore(url).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: "STORE_OPEN_FAILED" });
      const all = `${(err as Error).message} ${JSON.stringify(err)} ${JSON.stringify((err as JitError).params)} ${(err as Error).stack}`;
      expect(all).not.toContain(PASSWORD);
      return err as JitError;
    }

    it("a database that does not exist", async () => {
      const err = await openFailure(db.url({ password: PASSWORD }).replace(`/${db.name}`, "/jit_no_such_db"));
      expect(err.message).toBe('cannot open database 127.0.0.1:5432/jit_no_such_db: database "jit_no_such_db" does not exist (SQLSTATE 3D000)');
    });

    it("a refused connection", async () => {
      const port = await freePort();
      const err = await openFailure(db.url({ password: PASSWORD, port }));
      expect(err.message).toMatch(new RegExp(`^cannot open database 127\\.0\\.0\\.1:${port}/${db.name}: .*ECONNREFUSED`));
    });

    it("a wrong password (a server that asks for one and refuses it)", async () => {
      const fake = await fakeAuthFailingServer();
      try {
        const err = await openFailure(`postgres://jit:${PASSWORD}@127.0.0.1:${fake.port}/appdb`);
        expect(err.message).toBe(`cannot open database 127.0.0.1:${fake.port}/appdb: password authentication failed for user "jit" (SQLSTATE 28P01)`);
        expect(fake.passwordsSeen()).toEqual([PASSWORD]); // pg did send it, to the server only
      } finally {
        await fake.close();
      }
    });

    it("a URL that cannot be parsed, names no database, or carries an unknown or bad parameter", async () => {
      expect((await openFailure(`postgres://jit:${PASSWORD}@127.0.0.1:99999/appdb`)).message).toMatch(/cannot be parsed/);
      expect((await openFailure(`postgres://jit:${PASSWORD}@127.0.0.1:5432`)).message).toMatch(/^cannot open database 127\.0\.0\.1:5432\/\?: the URL names no database/);
      expect((await openFailure(`postgres://jit:${PASSWORD}@db.internal:6543/appdb?statment_timeout=5`)).message).toBe(
        `cannot open database db.internal:6543/appdb: unknown URL parameter "statment_timeout" (known: connect_timeout, statement_timeout, idle_in_transaction_session_timeout, pool_max, sslmode, application_name, schema, prepared_statements)`,
      );
      expect((await openFailure(`postgres://jit:${PASSWORD}@db.internal/appdb?prepared_statements=no`)).message).toBe(
        "cannot open database db.internal:5432/appdb: URL parameter prepared_statements must be on or off",
      );
      expect((await openFailure(`postgres://jit:${PASSWORD}@db.internal/appdb?pool_max=0`)).message).toMatch(/db\.internal:5432\/appdb: URL parameter pool_max must be/);
      expect((await openFailure(`postgres://jit:${PASSWORD}@db.internal/appdb?schema=Bad-Name`)).message).toMatch(/URL parameter schema must be/);
      expect((await openFailure(`mysql://jit:${PASSWORD}@db.internal/appdb`)).message).toBe("cannot open database a mysql:// URL: unsupported scheme (use postgres://, a file path or file:)");
    });

    it("the URL's settings reach the pool: timeouts, pool size, schema, percent-encoded credentials", () => {
      const c = parsePostgresUrl("postgresql://us%40er:p%2Fw@[::1]:6000/app%20db?statement_timeout=1500&connect_timeout=2&pool_max=3&schema=tenant_1&idle_in_transaction_session_timeout=700");
      expect(c.label).toBe("[::1]:6000/app db?schema=tenant_1");
      expect(c.pool).toMatchObject({
        host: "::1",
        port: 6000,
        database: "app db",
        user: "us@er",
        password: "p/w",
        max: 3,
        connectionTimeoutMillis: 2000,
        statement_timeout: 1500,
        query_timeout: 2500,
        idle_in_transaction_session_timeout: 700,
        options: "-c search_path=tenant_1",
      });
      expect(parsePostgresUrl("postgres://h/d").pool).toMatchObject({ max: 10, connectionTimeoutMillis: 5000, statement_timeout: 5000, idle_in_transaction_session_timeout: 10_000, ssl: false });
    });
  });
});

async function freePort(): Promise<number> {
  const server = net.createServer();
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  const port = (server.address() as net.AddressInfo).port;
  await new Promise<void>((resolve) => server.close(() => resolve()));
  return port;
}

/**
 * Speaks just enough of the PostgreSQL protocol to refuse a login: asks for a cleartext
 * password, records it, answers FATAL 28P01 as a server with a wrong password does.
 */
async function fakeAuthFailingServer(): Promise<{ port: number; passwordsSeen(): string[]; close(): Promise<void> }> {
  const seen: string[] = [];
  const sockets = new Set<net.Socket>();
  const server = net.createServer((socket) => {
    sockets.add(socket);
    socket.on("error", () => undefined);
    let buffer = Buffer.alloc(0);
    let started = false;
    socket.on("data", (chunk) => {
      buffer = Buffer.concat([buffer, chunk]);
      if (!started) {
        if (buffer.length < 4 || buffer.length < buffer.readInt32BE(0)) return;
        buffer = buffer.subarray(buffer.readInt32BE(0));
        started = true;
        socket.write(Buffer.from([0x52, 0, 0, 0, 8, 0, 0, 0, 3])); // AuthenticationCleartextPassword
      }
      if (buffer.length >= 5 && buffer[0] === 0x70 && buffer.length >= 1 + buffer.readInt32BE(1)) {
        const end = 1 + buffer.readInt32BE(1);
        seen.push(buffer.subarray(5, end - 1).toString("utf8"));
        buffer = buffer.subarray(end);
        const fields = Buffer.from(`SFATAL\0VFATAL\0C28P01\0Mpassword authentication failed for user "jit"\0\0`);
        const header = Buffer.alloc(5);
        header[0] = 0x45; // ErrorResponse
        header.writeInt32BE(4 + fields.length, 1);
        socket.end(Buffer.concat([header, fields]));
      }
    });
  });
  await new Promise<void>((resolve) => server.listen(0, "127.0.0.1", resolve));
  return {
    port: (server.address() as net.AddressInfo).port,
    passwordsSeen: () => seen,
    close: () => {
      for (const s of sockets) s.destroy();
      return new Promise<void>((resolve) => server.close(() => resolve()));
    },
  };
}
