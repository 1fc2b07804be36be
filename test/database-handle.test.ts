import { setTimeout as sleep } from "node:timers/promises";
import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { openDatabase } from "../runtime/database/open.ts";
import { resolveDatabase } from "../runtime/database/location.ts";
import { toPostgresPlaceholders } from "../runtime/database/postgres/placeholders.ts";
import type { Database, Migration } from "../runtime/database/types.ts";
import { loadApp } from "../runtime/app/loadApp.ts";
import { silentLogger } from "../runtime/logging/logger.ts";
import { StoreError } from "../runtime/errors/index.ts";
import { appJson, makeFixture } from "./helpers/appFixture.ts";
import { createTestDatabase, PG_ADMIN_URL, type TestDatabase } from "./helpers/pgTest.ts";
import { storeTempDir } from "./helpers/storeTemp.ts";

/**
 * The database handle (runtime/database/types.ts) as a family uses it, on both dialects:
 * statements with ? placeholders, transactions held across awaits, the migration ledger per
 * owner, named constraint violations, and (SQLite) a family's write units in the group commit.
 */

const COUNTERS: Migration[] = [
  { version: 1, name: "counters", sql: "CREATE TABLE counters (name text NOT NULL, n integer NOT NULL); CREATE UNIQUE INDEX counters_name ON counters(name);" },
  { version: 2, name: "notes", sql: "CREATE TABLE notes (id integer PRIMARY KEY, body text NOT NULL, CONSTRAINT notes_body_short CHECK (length(body) < 100))" },
];

const UNITS = new URL("./helpers/counterUnits.ts", import.meta.url);

type Opener = () => Promise<Database>;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

async function sqliteOpener(writer: "inline" | "worker" = "inline"): Promise<{ open: Opener; file: string }> {
  const t = await storeTempDir("jit-db-");
  cleanups.push(t.remove);
  const file = path.join(t.dir, "app.sqlite");
  return { file, open: async () => track(await openDatabase(file, { sqliteWriter: writer })) };
}

async function postgresOpener(): Promise<{ open: Opener; db: TestDatabase }> {
  const db = await createTestDatabase();
  cleanups.push(() => db.drop());
  return { db, open: async () => track(await openDatabase(db.url())) };
}

function track(db: Database): Database {
  cleanups.push(() => db.close());
  return db;
}

function handleContract(name: string, opener: () => Promise<{ open: Opener }>): void {
  describe(`database handle: ${name}`, () => {
    it("runs statements with ? placeholders and reads rows back by column name", async () => {
      const db = await (await opener()).open();
      await db.migrate("test", COUNTERS);
      expect(await db.run("INSERT INTO counters (name, n) VALUES (?, ?)", ["a", 1])).toEqual({ changes: 1 });
      await db.run("INSERT INTO counters (name, n) VALUES (?, ?), (?, ?)", ["b", 2, "c", 3]);
      expect(await db.get("SELECT n FROM counters WHERE name = ?", ["b"])).toEqual({ n: 2 });
      expect(await db.all("SELECT name FROM counters WHERE n >= ? ORDER BY name", [2])).toEqual([{ name: "b" }, { name: "c" }]);
      expect(await db.get("SELECT n FROM counters WHERE name = ?", ["zzz"])).toBeUndefined();
      expect(await db.run("UPDATE counters SET n = n + 1 WHERE n > ?", [1])).toEqual({ changes: 2 });
      await db.ping();
    });

    it("commits a transaction whole, across awaits, and rolls it back whole on a throw", async () => {
      const db = await (await opener()).open();
      await db.migrate("test", COUNTERS);
      await db.transaction(async (tx) => {
        await tx.run("INSERT INTO counters (name, n) VALUES (?, ?)", ["t", 1]);
        await sleep(5);
        await tx.run("UPDATE counters SET n = n + 1 WHERE name = ?", ["t"]);
      });
      expect(await db.get("SELECT n FROM counters WHERE name = 't'")).toEqual({ n: 2 });
      const err = await db
        .transaction(async (tx) => {
          await tx.run("UPDATE counters SET n = 100 WHERE name = ?", ["t"]);
          await sleep(5);
          throw new Error("changed my mind");
        })
        .catch((e: unknown) => e);
      expect((err as Error).message).toBe("changed my mind");
      expect(await db.get("SELECT n FROM counters WHERE name = 't'")).toEqual({ n: 2 });
    });

    it("concurrent read-modify-write transactions do not lose an update", async () => {
      const db = await (await opener()).open();
      await db.migrate("test", COUNTERS);
      await db.run("INSERT INTO counters (name, n) VALUES ('c', 0)");
      await Promise.all(
        Array.from({ length: 8 }, () =>
          db.transaction(async (tx) => {
            // FOR UPDATE on PostgreSQL; SQLite runs the transactions one at a time.
            const row = await tx.get<{ n: number }>(db.dialect === "postgres" ? "SELECT n FROM counters WHERE name = 'c' FOR UPDATE" : "SELECT n FROM counters WHERE name = 'c'");
            await sleep(2);
            await tx.run("UPDATE counters SET n = ? WHERE name = 'c'", [row!.n + 1]);
          }),
        ),
      );
      expect(await db.get("SELECT n FROM counters WHERE name = 'c'")).toEqual({ n: 8 });
    });

    it("keeps one ledger per owner: each version once, owners apart; a failing migration leaves its owner as it was", async () => {
      const { open } = await opener();
      const db = await open();
      expect(await db.migrate("test", COUNTERS.slice(0, 1))).toEqual({ owner: "test", from: 0, to: 1, applied: [1] });
      expect(await db.migrate("test", COUNTERS)).toEqual({ owner: "test", from: 1, to: 2, applied: [2] });
      expect(await db.migrate("test", COUNTERS)).toEqual({ owner: "test", from: 2, to: 2, applied: [] });
      expect(await db.migrate("other", [{ version: 1, name: "x", sql: "CREATE TABLE other_x (id integer)" }])).toMatchObject({ applied: [1] });
      const broken: Migration[] = [
        { version: 1, name: "fine", sql: "CREATE TABLE broken_a (id integer)" },
        { version: 2, name: "fails", sql: "CREATE TABLE broken_b (id nonsense_type_that_fails(" },
      ];
      const err = await db.migrate("broken", broken).catch((e: unknown) => e);
      expect(err).toBeInstanceOf(StoreError);
      expect(err).toMatchObject({ code: "STORE_MIGRATION_FAILED", params: { version: 2 } });
      // Version 1 of the same owner rolled back with it: one transaction per owner.
      await expect(db.get("SELECT count(*) AS n FROM broken_a")).rejects.toThrow();
      const ledger = await db.all<{ owner: string; version: number }>("SELECT owner, version FROM jit_migrations ORDER BY owner, version");
      expect(ledger).toEqual([
        { owner: "other", version: 1 },
        { owner: "test", version: 1 },
        { owner: "test", version: 2 },
      ]);
    });

    it("refuses to start on a ledger newer than the code, naming the owner", async () => {
      const db = await (await opener()).open();
      await db.migrate("test", COUNTERS);
      const err = await db.migrate("test", COUNTERS.slice(0, 1)).catch((e: unknown) => e);
      expect(err).toMatchObject({ code: "STORE_MIGRATION_FAILED" });
      expect((err as Error).message).toMatch(/test's schema is at version 2, newer than this runtime knows \(1\)/);
    });

    it("two handles migrating at once apply each version once", async () => {
      const { open } = await opener();
      const [a, b] = [await open(), await open()];
      const reports = await Promise.all([a.migrate("test", COUNTERS), b.migrate("test", COUNTERS)]);
      expect(reports.map((r) => r.applied.length).sort()).toEqual([0, 2]);
    });

    it("reports unique and check violations by the name the migration gave them", async () => {
      const db = await (await opener()).open();
      await db.migrate("test", COUNTERS);
      await db.run("INSERT INTO counters (name, n) VALUES ('u', 1)");
      const unique = await db.run("INSERT INTO counters (name, n) VALUES ('u', 2)").catch((e: unknown) => e);
      expect(db.constraintOf(unique)).toMatchObject({ kind: "unique", constraint: "counters_name" });
      const check = await db.run("INSERT INTO notes (id, body) VALUES (1, ?)", ["x".repeat(200)]).catch((e: unknown) => e);
      expect(db.constraintOf(check)).toMatchObject({ kind: "check", constraint: "notes_body_short" });
      expect(db.constraintOf(new Error("not a database error"))).toBeNull();
    });

    it("withLock runs one holder of a name at a time", async () => {
      const db = await (await opener()).open();
      let inside = 0;
      let most = 0;
      await Promise.all(
        Array.from({ length: 4 }, () =>
          db.withLock("job", async () => {
            most = Math.max(most, ++inside);
            await sleep(5);
            inside--;
          }),
        ),
      );
      expect(most).toBe(1);
    });

    it("close ends the handle: STORE_CLOSED afterwards", async () => {
      const db = await (await opener()).open();
      await db.close();
      await expect(db.ping()).rejects.toMatchObject({ code: "STORE_CLOSED" });
      await expect(db.get("SELECT 1 AS one")).rejects.toMatchObject({ code: "STORE_CLOSED" });
    });
  });
}

handleContract("SQLite", () => sqliteOpener("inline"));
handleContract("SQLite, writes on the writer thread", () => sqliteOpener("worker"));
(PG_ADMIN_URL ? handleContract : describe.skip)("PostgreSQL", postgresOpener);

describe("SQLite write units of a family", () => {
  for (const writer of ["inline", "worker"] as const) {
    it(`run in the group commit (${writer}): one turn's units commit together, in call order, each all or nothing`, async () => {
      const { open, file } = await sqliteOpener(writer);
      const db = await open();
      await db.migrate("test", COUNTERS);
      const units = await db.writeUnits(UNITS);
      const counts = await Promise.all([units.run<number>("bump", "x"), units.run<number>("bump", "x"), units.run<number>("bump", "y")]);
      expect(counts).toEqual([1, 2, 1]);
      const err = await units.run("pair", "p", "x").catch((e: unknown) => e);
      expect((err as Error).message).toBe("violated unique counters_name");
      // The savepoint undid the unit's first insert; the next unit is unaffected.
      expect(await db.get("SELECT count(*) AS n FROM counters WHERE name = 'p'")).toEqual({ n: 0 });
      expect(await units.run("pair", "q", "r")).toBe(true);
      // Durable and visible to another connection once settled.
      const other = await openDatabase(file);
      cleanups.push(() => other.close());
      expect(await other.all("SELECT name, n FROM counters ORDER BY name")).toEqual([
        { name: "q", n: 0 },
        { name: "r", n: 0 },
        { name: "x", n: 2 },
        { name: "y", n: 1 },
      ]);
    });
  }

  it("a module without createUnits is refused by name", async () => {
    const db = await (await sqliteOpener()).open();
    await expect(db.writeUnits(new URL("./helpers/appFixture.ts", import.meta.url))).rejects.toThrow(/exports no createUnits/);
  });
});

describe("placeholders", () => {
  it("turns ? into $1..$n outside quotes and comments; numbered statements pass as written", () => {
    expect(toPostgresPlaceholders("SELECT a FROM t WHERE b = ? AND c = ?")).toBe("SELECT a FROM t WHERE b = $1 AND c = $2");
    expect(toPostgresPlaceholders("SELECT '?' AS q, \"x?\" FROM t WHERE b = ? -- why?\n AND c = ?")).toBe("SELECT '?' AS q, \"x?\" FROM t WHERE b = $1 -- why?\n AND c = $2");
    expect(toPostgresPlaceholders("UPDATE t SET a = $1 WHERE b = $1")).toBe("UPDATE t SET a = $1 WHERE b = $1");
  });
});

describe("database elements", () => {
  it("every app gets databases.default: <root>/.jit/<appId>.sqlite, or the URL of JIT_DATABASE_URL", () => {
    expect(resolveDatabase({ root: "/r", appId: "a", env: {} })).toBe("/r/.jit/a.sqlite");
    expect(resolveDatabase({ root: "/r", appId: "a", env: { JIT_DATABASE_URL: "postgres://h/db", JIT_DB: "/x.sqlite" } })).toBe("postgres://h/db");
    expect(resolveDatabase({ root: "/r", appId: "a", env: { JIT_DB: "/x.sqlite", DATABASE_URL: "postgres://h/db" } })).toBe("/x.sqlite");
    expect(resolveDatabase({ root: "/r", appId: "a", env: {}, declared: "/r/data/main.sqlite" })).toBe("/r/data/main.sqlite");
    expect(resolveDatabase({ root: "/r", appId: "a", env: { JIT_DATABASE_URL: "postgres://h/db" }, declared: "/r/data/main.sqlite" })).toBe("postgres://h/db");
  });

  it("an app names its own database element as default in app.json; its store and handle live there", async () => {
    const { root, cleanup } = await makeFixture({
      ...appJson("shop"),
      "apps/shop/app.json": { appId: "shop", title: "Shop", defaultDatabase: "databases.main" },
      "apps/shop/elements/databases/main/e.json": { type: "databases.SqliteType", title: "Main", file: "data/main.sqlite" },
      "apps/shop/elements/databases/archive/e.json": { type: "databases.SqliteType", title: "Archive" },
    });
    cleanups.push(cleanup);
    const app = await loadApp({ root, logger: silentLogger, env: {} });
    cleanups.push(() => app.close());
    expect(app.defaultDatabase).toBe("databases.main");
    expect(app.dbFile).toBe(path.join(root, "data", "main.sqlite"));
    const db = await app.getDatabase();
    expect(db.label).toBe(path.join(root, "data", "main.sqlite"));
    expect(await app.getElement<{ getDatabase(): Promise<Database> }>("databases.main").getDatabase()).toBe(db);
    // The login family migrated its tables into that database when its store opened.
    await app.getStore();
    expect(await db.get("SELECT max(version) AS v FROM jit_migrations WHERE owner = 'auths'")).toEqual({ v: expect.any(Number) });
    // Another database element gets a handle of its own.
    const archive = await app.getElement<{ getDatabase(): Promise<Database> }>("databases.archive").getDatabase();
    expect(archive).not.toBe(db);
    expect(archive.label).toBe(path.join(root, ".jit", "shop.archive.sqlite"));
    await expect(fs.stat(path.join(root, ".jit", "shop.archive.sqlite"))).resolves.toBeTruthy();
  });

  it("app.json's defaultDatabase must name a database element: APP_INVALID at #/defaultDatabase", async () => {
    const { root, cleanup } = await makeFixture({
      "apps/shop/app.json": { appId: "shop", title: "Shop", defaultDatabase: "auths.loginTypes.Meta" },
    });
    cleanups.push(cleanup);
    const err = await loadApp({ root, logger: silentLogger, env: {} }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "DECLARATION_INVALID" });
    const problems = (err as { problems: { code: string; pointer?: string; message: string }[] }).problems;
    expect(problems).toEqual([expect.objectContaining({ code: "APP_INVALID", pointer: "/defaultDatabase", message: expect.stringContaining("not a database element") })]);
  });
});
