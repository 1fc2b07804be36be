import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { JitError } from "../runtime/errors/index.ts";
import { openSqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { GroupCommit } from "../runtime/database/sqlite/groupCommit.ts";
import { storeTempDir, tempSqliteStore } from "./helpers/storeTemp.ts";

/**
 * The SQLite store's group commit (runtime/database/sqlite/groupCommit.ts): the writes of one
 * event-loop turn share one transaction and one fsync. Guards its contract: durable before
 * resolved, one failing write rejects alone, call order kept, a failed commit rejects all.
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const NOW = 1_700_000_000_000;
const hash = (i: number) => i.toString(16).padStart(64, "0");

async function setup() {
  const t = await tempSqliteStore();
  cleanups.push(t.cleanup);
  const user = await t.store.createUser({ name: "u" }, NOW);
  const peek = new Database(t.file, { readonly: true });
  cleanups.push(async () => void peek.close());
  const count = (table: string) => (peek.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { ...t, userId: user.userId, count };
}

function codeOf(err: unknown): string {
  return err instanceof JitError ? err.code : String(err);
}

describe("SqliteStore group commit", () => {
  it("many concurrent writes: none visible before, all durable once their promises resolve", async () => {
    const { store, userId, count } = await setup();
    const writes: Promise<void>[] = [];
    for (let i = 0; i < 200; i++) {
      writes.push(store.saveLoginCode(hash(i), { appId: "wx1", userId, expiresAt: NOW + 60_000 }, NOW));
      writes.push(store.putSessionKey("wx1", `o-${i}`, `sealed-${i}`, NOW));
    }
    // Queued, not yet committed: another connection sees nothing of them.
    expect(count("login_codes")).toBe(0);
    await Promise.all(writes);
    // Resolved means committed: a second connection on the file sees every row.
    expect(count("login_codes")).toBe(200);
    expect(count("session_keys")).toBe(200);
  });

  it("a failing write rejects alone; the others in its commit are kept", async () => {
    const { store, userId, count } = await setup();
    const results = await Promise.allSettled([
      store.saveLoginCode(hash(1), { appId: "wx1", userId, expiresAt: NOW + 60_000 }, NOW),
      store.saveLoginCode(hash(2), { appId: "wx1", userId: 9999, expiresAt: NOW + 60_000 }, NOW),
      // A multi-statement write that fails half-way: its user insert must be rolled back too.
      store.createUser({ name: "ghost", corpId: "no-such-corp" }, NOW),
      store.createSession(hash(3), { userId, corpId: null, expiresAt: NOW + 60_000 }, NOW),
      store.saveLoginCode(hash(1), { appId: "wx1", userId, expiresAt: NOW + 60_000 }, NOW),
    ]);
    expect(results.map((r) => r.status)).toEqual(["fulfilled", "rejected", "rejected", "fulfilled", "rejected"]);
    expect(codeOf((results[1] as PromiseRejectedResult).reason)).toBe("USER_NOT_FOUND");
    expect(codeOf((results[2] as PromiseRejectedResult).reason)).toBe("ARGUMENT_INVALID");
    expect(String((results[4] as PromiseRejectedResult).reason)).toMatch(/UNIQUE/);
    expect(count("login_codes")).toBe(1);
    expect(count("login_sessions")).toBe(1);
    expect(count("users")).toBe(1);
  });

  it("keeps call order: a save and a consume of one code issued in the same tick", async () => {
    const { store, userId } = await setup();
    const saved = store.saveLoginCode(hash(7), { appId: "wx1", userId, expiresAt: NOW + 60_000 }, NOW);
    const first = store.consumeCode("login", hash(7), NOW + 1);
    const second = store.consumeCode("login", hash(7), NOW + 2);
    await saved;
    expect((await first).status).toBe("ok");
    expect((await second).status).toBe("invalid");
  });

  it("a commit that cannot happen rejects every write of the batch and writes nothing", async () => {
    const tmp = await storeTempDir();
    cleanups.push(tmp.remove);
    const file = path.join(tmp.dir, "app.sqlite");
    const store = await openSqliteStore({ file, busyTimeoutMs: 20 });
    cleanups.push(() => store.close());
    const user = await store.createUser({ name: "u" }, NOW);
    const other = new Database(file);
    cleanups.push(async () => void other.close());
    other.exec("BEGIN IMMEDIATE"); // another connection holds the write lock
    const results = await Promise.allSettled([
      store.saveLoginCode(hash(1), { appId: "wx1", userId: user.userId, expiresAt: NOW + 60_000 }, NOW),
      store.putSessionKey("wx1", "o-1", "sealed", NOW),
    ]);
    other.exec("ROLLBACK");
    expect(results.map((r) => r.status)).toEqual(["rejected", "rejected"]);
    expect(String((results[0] as PromiseRejectedResult).reason)).toMatch(/locked|busy/i);
    expect(await store.getSessionKey("wx1", "o-1")).toBeNull();
    // The store works again once the lock is gone.
    await store.putSessionKey("wx1", "o-1", "sealed", NOW);
    expect(await store.getSessionKey("wx1", "o-1")).toEqual({ sealed: "sealed", updatedAt: NOW });
  });

  it("close() commits the writes still queued", async () => {
    const tmp = await storeTempDir();
    cleanups.push(tmp.remove);
    const file = path.join(tmp.dir, "app.sqlite");
    const store = await openSqliteStore({ file });
    const pending = store.putSessionKey("wx1", "o-1", "sealed", NOW);
    await store.close();
    await pending;
    const again = await openSqliteStore({ file });
    cleanups.push(() => again.close());
    expect(await again.getSessionKey("wx1", "o-1")).toEqual({ sealed: "sealed", updatedAt: NOW });
  });

  describe("durability: writes settle only after a WAL fsync that began after their commit", () => {
    function deferredSyncs() {
      const calls: Array<{ release(): void; fail(err: Error): void }> = [];
      const syncWal = () =>
        new Promise<void>((resolve, reject) => {
          calls.push({ release: resolve, fail: reject });
        });
      return { calls, syncWal };
    }
    const tick = () => new Promise((resolve) => setImmediate(resolve));

    it("holds every promise of a batch until its sync ends, and shares the next sync among later batches", async () => {
      const db = new Database(":memory:");
      db.exec("CREATE TABLE t (v INTEGER)");
      const { calls, syncWal } = deferredSyncs();
      const commits = new GroupCommit(db, { walFile: null, syncWal });
      const settled: number[] = [];
      const first = commits.run(() => db.prepare("INSERT INTO t VALUES (1)").run(), true).then(() => settled.push(1));
      await tick();
      expect(calls).toHaveLength(1); // batch 1 committed, its sync started
      expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 1 });
      expect(settled).toEqual([]); // committed is not yet acknowledged

      // Two more batches commit while sync 1 runs: they wait for ONE new sync, started after it.
      const second = commits.run(() => db.prepare("INSERT INTO t VALUES (2)").run(), true).then(() => settled.push(2));
      await tick();
      const third = commits.run(() => db.prepare("INSERT INTO t VALUES (3)").run(), true).then(() => settled.push(3));
      await tick();
      expect(calls).toHaveLength(1);
      calls[0]!.release();
      await first;
      await tick();
      expect(settled).toEqual([1]);
      expect(calls).toHaveLength(2);
      calls[1]!.release();
      await Promise.all([second, third]);
      expect(settled).toEqual([1, 2, 3]);
      db.close();
    });

    it("answers a unit at commit when its ackOnCommit accepts the result; the rest of its batch waits for the sync", async () => {
      const db = new Database(":memory:");
      db.exec("CREATE TABLE t (v INTEGER)");
      const { calls, syncWal } = deferredSyncs();
      const commits = new GroupCommit(db, { walFile: null, syncWal });
      const settled: string[] = [];
      const insert = (v: number) => () => db.prepare("INSERT INTO t VALUES (?)").run(v).changes;
      const accepted = commits.run(insert(1), true, (changes) => changes === 1).then(() => settled.push("accepted"));
      const refused = commits.run(insert(2), true, () => false).then(() => settled.push("refused"));
      const plain = commits.run(insert(3), true).then(() => settled.push("plain"));
      await accepted;
      expect(settled).toEqual(["accepted"]);
      expect(calls).toHaveLength(1); // the batch's sync is running; two units wait for it
      calls[0]!.release();
      await Promise.all([refused, plain]);
      expect(settled).toEqual(["accepted", "refused", "plain"]);

      // A batch of units all answered at commit starts no sync of its own…
      await commits.run(insert(4), true, () => true);
      expect(calls).toHaveLength(1);
      // …the next durable batch's sync covers its frames.
      const durable = commits.run(insert(5), true);
      await tick();
      expect(calls).toHaveLength(2);
      calls[1]!.release();
      await durable;
      expect(db.prepare("SELECT count(*) AS n FROM t").get()).toEqual({ n: 5 });
      db.close();
    });

    it("a unit that fails is never answered at commit: it rejects with its own error, after the sync like the rest", async () => {
      const db = new Database(":memory:");
      db.exec("CREATE TABLE t (v INTEGER PRIMARY KEY)");
      const { calls, syncWal } = deferredSyncs();
      const commits = new GroupCommit(db, { walFile: null, syncWal });
      let settled = false;
      const fails = commits.run(() => db.prepare("INSERT INTO t VALUES (1), (1)").run(), true, () => true).finally(() => (settled = true));
      fails.catch(() => {});
      await tick();
      await tick();
      expect(settled).toBe(false);
      calls[0]!.release();
      await expect(fails).rejects.toMatchObject({ code: "SQLITE_CONSTRAINT_PRIMARYKEY" });
      db.close();
    });

    it("rejects the writes of a batch whose sync fails", async () => {
      const db = new Database(":memory:");
      db.exec("CREATE TABLE t (v INTEGER)");
      const { calls, syncWal } = deferredSyncs();
      const commits = new GroupCommit(db, { walFile: null, syncWal });
      const write = commits.run(() => db.prepare("INSERT INTO t VALUES (1)").run(), true);
      await tick();
      calls[0]!.fail(Object.assign(new Error("EIO: i/o error, fsync"), { code: "EIO" }));
      await expect(write).rejects.toMatchObject({ code: "EIO" });
      db.close();
    });

    it("syncs the real WAL file of a store on disk, and close() waits for it", async () => {
      const { store, cleanup } = await tempSqliteStore();
      try {
        const user = await store.createUser({ name: "durable" }, 1);
        await store.close();
        const again = await openSqliteStore({ file: store.file });
        expect(await again.getUser(user.userId)).toMatchObject({ name: "durable" });
        await again.close();
      } finally {
        await cleanup();
      }
    });
  });
});
