import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { loadApp, silentLogger } from "../runtime/index.ts";
import { resolveDatabase, resolveDbFile } from "../runtime/database/location.ts";
import { databaseLabel, openStore } from "../elements/auths/storage/openStore.ts";
import { SqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { REPO } from "./helpers/http.ts";
import { storeTempDir } from "./helpers/storeTemp.ts";

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

const PG = "postgres://jit:pw-Label-3310@db.internal:6543/appdb";

describe("choosing the database: --db, JIT_DB, DATABASE_URL, else the app's SQLite file", () => {
  const root = "/srv/app";
  it("takes the first one set, keeps a server URL as given and turns file: URLs into paths", () => {
    const at = (dbFile: string | undefined, env: Record<string, string>) => resolveDatabase({ ...(dbFile !== undefined ? { dbFile } : {}), env, root, appId: "demo" });
    expect(at(PG, { JIT_DB: "/x.sqlite", DATABASE_URL: "postgres://h/other" })).toBe(PG);
    expect(at(undefined, { JIT_DB: PG, DATABASE_URL: "postgres://h/other" })).toBe(PG);
    expect(at(undefined, { JIT_DB: " ", DATABASE_URL: PG })).toBe(PG);
    expect(at(undefined, { DATABASE_URL: "file:///var/data/a.sqlite" })).toBe("/var/data/a.sqlite");
    expect(at("file:rel/a.sqlite", {})).toBe(path.resolve("rel/a.sqlite"));
    expect(at(undefined, {})).toBe(path.join(root, ".jit", "demo.sqlite"));
    expect(resolveDbFile({ dbFile: PG, root, appId: "demo" })).toBeNull();
  });

  it("names a server database host:port/database, never with its password", () => {
    expect(databaseLabel(PG)).toBe("db.internal:6543/appdb");
    expect(databaseLabel("postgres://jit:pw@db.internal/appdb?schema=t1")).toBe("db.internal:5432/appdb?schema=t1");
    expect(databaseLabel("/var/a.sqlite")).toBe("/var/a.sqlite");
    expect(databaseLabel("postgres://jit:pw-Label-3310@db.internal:99999/appdb")).toBe("a postgres:// URL");
  });

  it("App.database is that name; App.dbFile is null for a server database", async () => {
    const app = await loadApp({ root: REPO, appId: "demo", logger: silentLogger, env: { DATABASE_URL: PG } });
    expect(app.database).toBe("db.internal:6543/appdb");
    expect(app.dbFile).toBeNull();
  });
});

describe("openStore chooses the store by scheme", () => {
  it("a path or a file: URL opens SQLite", async () => {
    const t = await storeTempDir();
    cleanups.push(t.remove);
    for (const location of [path.join(t.dir, "a", "x.sqlite"), resolveDatabase({ dbFile: `file://${path.join(t.dir, "y.sqlite")}`, root: t.dir, appId: "d" })]) {
      const store = await openStore(location);
      cleanups.push(() => store.close());
      expect(store).toBeInstanceOf(SqliteStore);
      await store.ping();
    }
  });

  it("another scheme is STORE_OPEN_FAILED, naming the scheme and not the URL", async () => {
    const err = await openStore("mysql://jit:pw-Label-3310@db.internal/appdb").catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STORE_OPEN_FAILED", message: "cannot open database a mysql:// URL: unsupported scheme (use postgres://, a file path or file:)" });
  });
});

// Regression: `jit serve --workers 2` on a fresh SQLite file failed to start about one time
// in ten with "database is locked": both processes asked for WAL mode at once, and SQLite
// refuses one of them at once (a lock upgrade it treats as a deadlock) instead of waiting.
describe("several processes opening one fresh SQLite file at the same instant", () => {
  it("all of them open it: 6 rounds of 4 processes", async () => {
    const { spawn } = await import("node:child_process");
    const dir = await storeTempDir();
    cleanups.push(dir.remove);
    const open = (file: string, at: number) =>
      new Promise<string>((resolve, reject) => {
        const child = spawn(process.execPath, [path.join(REPO, "cli/run-ts.js"), path.join(REPO, "test/helpers/storeOpener.ts"), file, String(at)], { stdio: ["ignore", "pipe", "inherit"] });
        let out = "";
        child.stdout.on("data", (c: Buffer) => (out += c.toString("utf8")));
        child.on("error", reject);
        child.on("exit", () => resolve(out.trim()));
      });
    const results: string[] = [];
    for (let round = 0; round < 6; round++) {
      // Far enough ahead for every process to have loaded its modules.
      const at = Date.now() + 2_500;
      results.push(...(await Promise.all([1, 2, 3, 4].map(() => open(path.join(dir.dir, `fresh-${round}.sqlite`), at)))));
    }
    expect(results).toEqual(Array(24).fill("ok"));
  }, 60_000);
});
