import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { JitError } from "../runtime/errors/index.ts";
import { openSqliteStore } from "../runtime/storage/sqlite/index.ts";
import { storeTempDir, tempSqliteStore } from "./helpers/storeTemp.ts";

/**
 * The SQLite store's group commit (runtime/storage/sqlite/groupCommit.ts): the writes of one
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
});
