import { execFile } from "node:child_process";
import path from "node:path";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { ElementError, JitError, StoreError } from "../runtime/errors/index.ts";
import { openSqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { sqliteWriterFromEnv } from "../runtime/database/sqlite/open.ts";
import { SQLITE_WRITE_UNITS } from "../elements/auths/storage/sqlite/SqliteStore.ts";
import { WorkerWrites } from "../runtime/database/sqlite/writer/WorkerWrites.ts";
import { REPO_ROOT } from "./helpers/loginFixture.ts";
import { storeTempDir, tempSqliteStore } from "./helpers/storeTemp.ts";
import { LoginError } from "../elements/auths/loginTypes/Meta/errors.ts";

/**
 * The SQLite store with its writes on a writer thread (runtime/database/sqlite/writer/), as
 * `jit serve` runs it. The Store contract runs on it in store-sqlite.test.ts; these tests
 * cover what only a second thread can get wrong: errors crossing back typed, batching,
 * the thread's life (start failure, a crash, close) and the process's exit.
 */
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const NOW = 1_700_000_000_000;
const hash = (i: number) => i.toString(16).padStart(64, "0");

async function workerStore() {
  const t = await tempSqliteStore("worker");
  cleanups.push(t.cleanup);
  const peek = new Database(t.file, { readonly: true });
  cleanups.push(async () => void peek.close());
  const count = (table: string) => (peek.prepare(`SELECT count(*) AS n FROM ${table}`).get() as { n: number }).n;
  return { ...t, count };
}

describe("SqliteStore with a writer thread", () => {
  it("commits many concurrent writes; each is visible to other connections and to the store once resolved", async () => {
    const { store, count } = await workerStore();
    const user = await store.createUser({ name: "u" }, NOW);
    const writes = Array.from({ length: 300 }, (_, i) => store.saveLoginCode(hash(i), { appId: "wx1", userId: user.userId, expiresAt: NOW + 60_000 }, NOW));
    expect(count("login_codes")).toBe(0);
    await Promise.all(writes);
    expect(count("login_codes")).toBe(300);
    // The store's own (reading) connection sees the thread's commit at once.
    await expect(store.consumeCode("login", hash(7), NOW)).resolves.toMatchObject({ status: "ok", record: { userId: user.userId } });
  });

  it("brings typed errors back with their class, code and params, and a failing unit rejects alone", async () => {
    const { store, count } = await workerStore();
    const user = await store.createUser({ name: "u" }, NOW);
    const [bound, missing, badCorp, other] = await Promise.allSettled([
      store.createBinding({ appId: "wx1", openId: "o-1", unionId: null, userId: user.userId }, NOW),
      store.createBinding({ appId: "wx1", openId: "o-2", unionId: null, userId: 999_999 }, NOW),
      store.addCorpMember("no-such-corp", user.userId, NOW),
      store.saveBindCode(hash(1), { appId: "wx1", openId: "o-3", unionId: null, expiresAt: NOW + 1 }, NOW),
    ]);
    expect(bound.status).toBe("fulfilled");
    expect(other.status).toBe("fulfilled");
    const err = (missing as PromiseRejectedResult).reason as JitError;
    expect(err).toBeInstanceOf(LoginError);
    expect(err).toMatchObject({ code: "USER_NOT_FOUND", status: 404, params: { userId: 999_999 } });
    expect((badCorp as PromiseRejectedResult).reason).toBeInstanceOf(ElementError);
    expect((badCorp as PromiseRejectedResult).reason).toMatchObject({ code: "ARGUMENT_INVALID" });
    expect(count("identities")).toBe(1);
    expect(count("bind_codes")).toBe(1);
  });

  it("keeps the name and SQLite code of an untyped error (a duplicate primary key)", async () => {
    const { store } = await workerStore();
    const code = { appId: "wx1", openId: "o-1", unionId: null, expiresAt: NOW + 1 };
    await store.saveBindCode(hash(1), code, NOW);
    const err = await store.saveBindCode(hash(1), code, NOW).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(Error);
    expect(err).toMatchObject({ name: "SqliteError", code: "SQLITE_CONSTRAINT_PRIMARYKEY" });
  });

  it("keeps call order within a turn: a consume sees the save queued just before it", async () => {
    const { store } = await workerStore();
    const user = await store.createUser({}, NOW);
    const saved = store.saveLoginCode(hash(5), { appId: "wx1", userId: user.userId, expiresAt: NOW + 1000 }, NOW);
    const consumed = store.consumeCode("login", hash(5), NOW);
    const again = store.consumeCode("login", hash(5), NOW);
    await saved;
    expect(await consumed).toMatchObject({ status: "ok" });
    expect(await again).toEqual({ status: "invalid" });
  });

  it("close() commits the writes queued before it; later writes fail with STORE_CLOSED", async () => {
    const t = await storeTempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, "a.sqlite");
    const store = await openSqliteStore({ file, writer: "worker" });
    const pending = store.upsertCorp({ corpId: "c1", corpName: "One" });
    await store.close();
    await pending;
    await expect(store.upsertCorp({ corpId: "c2", corpName: "Two" })).rejects.toMatchObject({ code: "STORE_CLOSED", params: { file } });
    const reopened = new Database(file, { readonly: true });
    expect(reopened.prepare("SELECT corp_name FROM corps WHERE corp_id = 'c1'").get()).toEqual({ corp_name: "One" });
    reopened.close();
  });

  it("a write that cannot be sent to the thread fails alone; the writes of its turn commit", async () => {
    const { store, count } = await workerStore();
    const before = store.upsertCorp({ corpId: "c1", corpName: "One" });
    const bad = store.upsertCorp({ corpId: "c2", corpName: (() => "SECRET-SOURCE") as unknown as string });
    const after = store.upsertCorp({ corpId: "c3", corpName: "Three" });
    const err = await bad.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: "STORE_WRITER_FAILED" });
    expect((err as Error).message).toContain("upsertCorp");
    expect((err as Error).message).not.toContain("SECRET-SOURCE");
    await Promise.all([before, after]);
    expect(count("corps")).toBe(2);
    await store.upsertCorp({ corpId: "c4", corpName: "Four" });
    expect(count("corps")).toBe(3);
  });

  it("a thread that dies fails the writes it was sent with STORE_WRITER_FAILED; the next write starts a new thread", async () => {
    const t = await storeTempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, "a.sqlite");
    await (await openSqliteStore({ file })).close(); // created and migrated
    const writes = await WorkerWrites.start({ file, busyTimeoutMs: 1000, modules: [SQLITE_WRITE_UNITS.href] });
    cleanups.push(() => writes.close());
    const unit = SQLITE_WRITE_UNITS.href;
    await writes.run(unit, "upsertCorp", [{ corpId: "c0", corpName: "Zero" }]);
    const inFlight = writes.run(unit, "upsertCorp", [{ corpId: "c1", corpName: "One" }]);
    writes.flush();
    await writes.terminate();
    const err = await inFlight.catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: "STORE_WRITER_FAILED" });
    expect((err as Error).message).toContain(file);
    // Writes go on, on a new thread, and nothing committed before is lost.
    await writes.run(unit, "upsertCorp", [{ corpId: "c2", corpName: "Two" }]);
    await writes.close();
    const db = new Database(file, { readonly: true });
    const names = (db.prepare("SELECT corp_id FROM corps ORDER BY corp_id").all() as { corp_id: string }[]).map((r) => r.corp_id);
    db.close();
    expect(names).toContain("c0");
    expect(names).toContain("c2");
  });

  it("a thread that cannot open the database fails the start with STORE_WRITER_FAILED naming the file", async () => {
    const t = await storeTempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, "missing-folder", "a.sqlite");
    const err = await WorkerWrites.start({ file, busyTimeoutMs: 100 }).catch((e: unknown) => e);
    expect(err).toBeInstanceOf(StoreError);
    expect(err).toMatchObject({ code: "STORE_WRITER_FAILED" });
    expect((err as Error).message).toContain(file);
  });

  it("an idle thread does not keep the process alive: a script that never closes the store still exits", async () => {
    const t = await storeTempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, "a.sqlite");
    const script = [
      `import { openSqliteStore } from ${JSON.stringify(path.join(REPO_ROOT, "elements/auths/storage/sqlite/index.ts"))};`,
      `const store = await openSqliteStore({ file: ${JSON.stringify(file)}, writer: "worker" });`,
      `await store.upsertCorp({ corpId: "c1", corpName: "One" });`,
      `console.log("written");`,
    ].join("\n");
    const scriptFile = path.join(t.dir, "script.mts");
    await import("node:fs/promises").then((fs) => fs.writeFile(scriptFile, script));
    const result = await new Promise<{ code: number | null; stdout: string }>((resolve) => {
      execFile(process.execPath, [path.join(REPO_ROOT, "cli/run-ts.js"), scriptFile], { cwd: REPO_ROOT, timeout: 20_000 }, (error, stdout) =>
        resolve({ code: error ? (typeof error.code === "number" ? error.code : -1) : 0, stdout }),
      );
    });
    expect(result).toEqual({ code: 0, stdout: "written\n" });
  });
});

describe("JIT_SQLITE_WRITER", () => {
  it("chooses the writer, falls back when unset or empty, and refuses anything else by name", () => {
    expect(sqliteWriterFromEnv({}, "worker")).toBe("worker");
    expect(sqliteWriterFromEnv({ JIT_SQLITE_WRITER: "" }, "worker")).toBe("worker");
    expect(sqliteWriterFromEnv({ JIT_SQLITE_WRITER: "inline" }, "worker")).toBe("inline");
    expect(sqliteWriterFromEnv({ JIT_SQLITE_WRITER: "worker" }, "inline")).toBe("worker");
    expect(() => sqliteWriterFromEnv({ JIT_SQLITE_WRITER: "threads" }, "inline")).toThrow(
      expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("JIT_SQLITE_WRITER") }),
    );
  });
});
