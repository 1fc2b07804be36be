import fs from "node:fs/promises";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { StoreError } from "../runtime/errors/index.ts";
import { hashToken, newSecretToken } from "../runtime/security/tokens.ts";
import { resolveDbFile } from "../runtime/database/location.ts";
import { ADMIN_SQL } from "../elements/auths/storage/sqlite/adminReads.ts";
import { LATEST_VERSION, MIGRATIONS, openSqliteStore, seedUsers, type SqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { SQL, type StatementName } from "../elements/auths/storage/sqlite/statements.ts";
import { runStoreContract } from "./store.contract.ts";
import { storeTempDir, tempSqliteStore } from "./helpers/storeTemp.ts";

/** A SQLite store plus peers on the same file (connections of their own), closed before the file goes. */
async function withPeers(writer: "inline" | "worker") {
  const made = await tempSqliteStore(writer);
  const peers: SqliteStore[] = [];
  return {
    store: made.store,
    openPeer: async () => {
      const peer = await openSqliteStore({ file: made.file, writer });
      peers.push(peer);
      return peer;
    },
    cleanup: async () => {
      await Promise.all(peers.map((p) => p.close()));
      await made.cleanup();
    },
  };
}
runStoreContract("SqliteStore", () => withPeers("inline"));
runStoreContract("SqliteStore, writes on a writer thread", () => withPeers("worker"));

const T0 = Date.UTC(2026, 0, 1);
const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});
async function tmp() {
  const t = await storeTempDir();
  cleanups.push(t.remove);
  return t.dir;
}

describe("SqliteStore: opening and migrations", () => {
  // synchronous NORMAL: the group commit fsyncs the WAL itself, off the event loop, before it
  // acknowledges a write (test/store-group-commit.test.ts checks that ordering).
  it("runs with WAL, foreign keys, synchronous NORMAL and a busy timeout", async () => {
    const file = path.join(await tmp(), "nested", "folder", "a.sqlite");
    const store = await openSqliteStore({ file, busyTimeoutMs: 1234 });
    cleanups.push(() => store.close());
    expect(store.file).toBe(file);
    expect(store.settings()).toEqual({ journalMode: "wal", foreignKeys: true, synchronous: 1, busyTimeoutMs: 1234, schemaVersion: LATEST_VERSION });
  });

  it("records the migration version and re-opens without re-applying", async () => {
    const file = path.join(await tmp(), "a.sqlite");
    expect(MIGRATIONS.map((m) => m.version)).toEqual(MIGRATIONS.map((_, i) => i + 1)); // consecutive from 1
    const first = await openSqliteStore({ file });
    const user = await first.createUser({ name: "kept" }, T0);
    await first.close();
    const again = await openSqliteStore({ file });
    cleanups.push(() => again.close());
    expect(again.settings().schemaVersion).toBe(LATEST_VERSION);
    expect(await again.getUser(user.userId)).toEqual(user);
  });

  it("upgrades a v1 database (before the unbound marks) to the latest version, keeping its data", async () => {
    const file = path.join(await tmp(), "v1.sqlite");
    const raw = new Database(file);
    // What the runtime of that time did: migration 1, its version in user_version (no ledger yet).
    raw.exec(MIGRATIONS[0]!.sql!);
    raw.pragma("user_version = 1");
    const userId = Number(raw.prepare("INSERT INTO users (name, created_at) VALUES ('old', ?)").run(T0).lastInsertRowid);
    raw.prepare("INSERT INTO wechat_mini_bindings (app_id, open_id, union_id, user_id, created_at) VALUES ('wx1', 'o1', 'u1', ?, ?)").run(userId, T0); // v1's table
    raw.close();

    const store = await openSqliteStore({ file });
    cleanups.push(() => store.close());
    expect(LATEST_VERSION).toBeGreaterThanOrEqual(2);
    expect(store.settings().schemaVersion).toBe(LATEST_VERSION);
    expect(await store.getUser(userId)).toEqual({ userId, name: "old", createdAt: T0 });
    expect(await store.findBindingByOpenId("wx1", "o1")).toMatchObject({ userId, unionId: "u1" });
    // The new table works on the upgraded file.
    expect(await store.wasUnbound("wx1", "o1")).toBe(false);
    expect(await store.deleteBinding("wx1", userId, T0 + 1)).toBe(true);
    expect(await store.wasUnbound("wx1", "o1")).toBe(true);
  });

  it("refuses a database written by a newer runtime: STORE_MIGRATION_FAILED", async () => {
    const file = path.join(await tmp(), "future.sqlite");
    const raw = new Database(file);
    raw.pragma(`user_version = ${LATEST_VERSION + 5}`);
    raw.close();
    const err = await openSqliteStore({ file }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: "STORE_MIGRATION_FAILED" });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).toMatch(/newer than this runtime/);
  });

  it("names the file when it cannot be opened: STORE_OPEN_FAILED", async () => {
    const dir = await tmp();
    const notADb = path.join(dir, "garbage.sqlite");
    await fs.writeFile(notADb, "this is not a database, just some text that is long enough ".repeat(20));
    await expect(openSqliteStore({ file: notADb })).rejects.toMatchObject({ code: "STORE_OPEN_FAILED", params: { file: notADb } });
    const blocker = path.join(dir, "plain-file");
    await fs.writeFile(blocker, "x");
    const err = await openSqliteStore({ file: path.join(blocker, "db.sqlite") }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STORE_OPEN_FAILED" });
    expect((err as Error).message).toContain(path.join(blocker, "db.sqlite"));
  });

  it("keeps data across close and re-open", async () => {
    const file = path.join(await tmp(), "a.sqlite");
    const s1 = await openSqliteStore({ file });
    const u = await s1.createUser({ name: "p" }, T0);
    await s1.createBinding({ appId: "wx1", openId: "o1", unionId: null, userId: u.userId }, T0);
    const h = hashToken(newSecretToken());
    await s1.createSession(h, { userId: u.userId, corpId: null, expiresAt: T0 + 1000 }, T0);
    await s1.close();
    const s2 = await openSqliteStore({ file });
    cleanups.push(() => s2.close());
    expect((await s2.findBindingByOpenId("wx1", "o1"))?.userId).toBe(u.userId);
    expect((await s2.getSession(h, T0))?.userId).toBe(u.userId);
  });
});

describe("SqliteStore: secrets at rest", () => {
  it("stores codes and tokens only as SHA-256 hashes", async () => {
    const { store, file, cleanup } = await tempSqliteStore();
    cleanups.push(cleanup);
    const u = await store.createUser({}, T0);
    const bind = newSecretToken();
    const login = newSecretToken();
    const token = newSecretToken();
    await store.saveBindCode(hashToken(bind), { appId: "wx1", openId: "o1", unionId: null, expiresAt: T0 + 1 }, T0);
    await store.saveLoginCode(hashToken(login), { appId: "wx1", userId: u.userId, expiresAt: T0 + 1 }, T0);
    await store.createSession(hashToken(token), { userId: u.userId, corpId: null, expiresAt: T0 + 1 }, T0);
    await store.close();
    const raw = new Database(file, { readonly: true });
    const rows = JSON.stringify([
      raw.prepare("SELECT * FROM bind_codes").all(),
      raw.prepare("SELECT * FROM login_codes").all(),
      raw.prepare("SELECT * FROM login_sessions").all(),
    ]);
    raw.close();
    for (const secret of [bind, login, token]) {
      expect(rows).not.toContain(secret);
      expect(rows).toContain(hashToken(secret));
    }
    // Nothing in the files either (WAL included).
    const dir = path.dirname(file);
    for (const name of await fs.readdir(dir)) {
      const bytes = await fs.readFile(path.join(dir, name), "latin1");
      for (const secret of [bind, login, token]) expect(bytes).not.toContain(secret);
    }
  });
});

describe("SqliteStore: lookups stay flat", () => {
  // Guards the 1,000,000-user benchmark: every statement reaches rows through a primary
  // key or an index; a plain SCAN of a table would make logins grow with the user count.
  it("uses an index or primary key in every statement", async () => {
    const { store, file, cleanup } = await tempSqliteStore();
    cleanups.push(cleanup);
    await seedUsers(store, { appId: "wx1", count: 200, openIdPrefix: "o", unionIdPrefix: "u", corp: { corpId: "c", corpName: "C" } });
    const raw = new Database(file);
    const plans: Record<string, string[]> = {};
    for (const name of Object.keys(SQL) as StatementName[]) {
      const statement = raw.prepare(`EXPLAIN QUERY PLAN ${SQL[name]}`);
      const params = Array.from({ length: countParams(SQL[name]) }, () => 1);
      plans[name] = (statement.all(...params) as { detail: string }[]).map((r) => r.detail);
    }
    raw.close();
    const scans = Object.entries(plans).filter(([, details]) => details.some((d) => /^SCAN\b/.test(d)));
    expect(scans).toEqual([]);
    for (const name of ["getUser", "wasUnbound", "clearUnbound", "bindingByOpenId", "bindingByUser", "userIdByUnionId", "listUserCorps", "consumeBindCode", "consumeLoginCode", "consumeLoginCodeInCorp", "loginCodeUnused", "firstCorpOf", "voidLoginCodesOf", "endSessionsOf", "getSession", "getSessionKey"] as const) {
      expect(plans[name]!.join(" | "), name).toMatch(/SEARCH .* USING (INDEX|COVERING INDEX|INTEGER PRIMARY KEY|PRIMARY KEY)/);
    }
  });
});

describe("SqliteStore: the console's search stays flat", () => {
  it("finds users by userId, openId or unionId through indexes, not by scanning", async () => {
    const { store, file, cleanup } = await tempSqliteStore();
    cleanups.push(cleanup);
    await seedUsers(store, { appId: "wx1", count: 50, openIdPrefix: "o", unionIdPrefix: "u" });
    const raw = new Database(file);
    const plan = (raw.prepare(`EXPLAIN QUERY PLAN ${ADMIN_SQL.searchIds}`).all(1, "o1", "u1") as { detail: string }[]).map((r) => r.detail);
    raw.close();
    expect(plan.filter((d) => /^SCAN (users|identities)\b/.test(d)), plan.join(" | ")).toEqual([]);
    expect(plan.join(" | ")).toMatch(/identities USING (COVERING )?INDEX identities_by_subject/);
  });
});

function countParams(sql: string): number {
  return (sql.match(/\?/g) ?? []).length;
}

describe("SqliteStore: bulk seeding", () => {
  it("seeds users with bindings, memberships and unionIds", async () => {
    const { store, cleanup } = await tempSqliteStore();
    cleanups.push(cleanup);
    const r = await seedUsers(store, { appId: "wx1", count: 2500, openIdPrefix: "bench-", unionIdPrefix: "un-", batch: 1000, corp: { corpId: "c1", corpName: "One" } });
    expect(r).toEqual({ count: 2500, firstUserId: 1, lastUserId: 2500 });
    const b = await store.findBindingByOpenId("wx1", "bench-2499");
    expect(b).toMatchObject({ appId: "wx1", openId: "bench-2499", unionId: "un-2499", userId: 2500 });
    expect(await store.listUserCorps(2500)).toEqual([{ corpId: "c1", corpName: "One" }]);
    expect(await store.findUserIdByUnionId("un-7")).toBe(8);
  });
});

describe("resolveDbFile", () => {
  const root = path.resolve("/srv/apps/demo");
  it("prefers --db, then JIT_DB, then <root>/.jit/<appId>.sqlite", () => {
    expect(resolveDbFile({ dbFile: "/x/a.sqlite", env: { JIT_DB: "/y/b.sqlite" }, root, appId: "demo" })).toBe(path.resolve("/x/a.sqlite"));
    expect(resolveDbFile({ env: { JIT_DB: "/y/b.sqlite" }, root, appId: "demo" })).toBe(path.resolve("/y/b.sqlite"));
    expect(resolveDbFile({ env: {}, root, appId: "demo" })).toBe(path.join(root, ".jit", "demo.sqlite"));
    expect(resolveDbFile({ dbFile: "", env: { JIT_DB: "" }, root, appId: "demo" })).toBe(path.join(root, ".jit", "demo.sqlite"));
  });
  it("resolves relative --db and JIT_DB against the cwd and keeps appId a file name", () => {
    expect(resolveDbFile({ dbFile: "rel/a.sqlite", env: {}, root, appId: "demo" })).toBe(path.resolve(process.cwd(), "rel/a.sqlite"));
    expect(resolveDbFile({ env: { JIT_DB: "b.sqlite" }, root, appId: "demo" })).toBe(path.resolve(process.cwd(), "b.sqlite"));
    expect(resolveDbFile({ env: {}, root, appId: "../evil/x" })).toBe(path.join(root, ".jit", ".._evil_x.sqlite"));
  });
});
