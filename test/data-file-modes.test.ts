import fs from "node:fs/promises";
import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { startFakeWeChatServer } from "jit-runtime/testing";
import { createLogger, loadApp } from "../runtime/index.ts";
import { openSqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { DEMO_APPID, DEMO_SECRET, LOGIN, makeTempRoot, post, removeDir } from "./helpers/http.ts";
import { JIT_BIN, startChild } from "./helpers/httpChild.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/**
 * Regression: the database files (`.jit/*.sqlite`, `-wal`, `-shm`) were 0644 in a 0755
 * folder; they hold openIds, unionIds, code and token hashes and sealed keys. They are now
 * 0600 in a 0700 folder, like master.key; looser existing ones are tightened at open.
 */
const modeOf = async (file: string) => (await fs.stat(file)).mode & 0o777;

describe.skipIf(process.platform === "win32")("data file modes", () => {
  const roots: string[] = [];
  afterEach(async () => {
    for (const root of roots.splice(0)) await removeDir(root);
  });

  it("a fresh `jit serve`: .jit is 0700, the database, its -wal and -shm and master.key are 0600", async () => {
    const fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    const root = await makeTempRoot();
    roots.push(root);
    // No JIT_MASTER_KEY: the key file is generated into .jit as well. Writes on the writer thread.
    const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0"], {
      WECHAT_API_BASE: fake.url,
      JIT_MASTER_KEY: "",
      JIT_DB: "",
      JIT_SQLITE_WRITER: "worker",
    });
    try {
      const [, base] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const got = await post(base!, `${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId: "modes" }) });
      expect((await post(base!, `${LOGIN}/register`, { bindCode: got.body.data.bindCode })).status).toBe(200);
      const dir = path.join(root, ".jit");
      const db = path.join(dir, "demo.sqlite");
      expect(await modeOf(dir)).toBe(0o700);
      const modes = Object.fromEntries(
        await Promise.all([db, `${db}-wal`, `${db}-shm`, path.join(dir, "master.key")].map(async (f) => [path.basename(f), await modeOf(f)])),
      );
      expect(modes).toEqual({ "demo.sqlite": 0o600, "demo.sqlite-wal": 0o600, "demo.sqlite-shm": 0o600, "master.key": 0o600 });
    } finally {
      child.kill("SIGKILL");
      await child.exited;
      await fake.close();
    }
  });

  it("tightens a data folder and database files left world-readable, says so once, and keeps the data", async () => {
    const root = await makeTempRoot();
    roots.push(root);
    const dir = path.join(root, ".jit");
    const db = path.join(dir, "demo.sqlite");
    await fs.mkdir(dir, { mode: 0o755 });
    await fs.chmod(dir, 0o755);
    const first = await openSqliteStore({ file: db });
    const user = await first.createUser({ name: "kept" }, 1);
    await first.close();
    await fs.chmod(db, 0o644);
    // A clean close removes -wal and -shm; a crashed process leaves them, as here.
    for (const [file, mode] of [[`${db}-wal`, 0o644], [`${db}-shm`, 0o666]] as const) {
      await fs.writeFile(file, "", { flag: "a" });
      await fs.chmod(file, mode);
    }

    const lines: string[] = [];
    const sink = new PassThrough();
    sink.on("data", (c: Buffer) => lines.push(c.toString("utf8")));
    const app = await loadApp({ root, appId: "demo", env: { JIT_MASTER_KEY: "11".repeat(32) }, logger: createLogger({ level: "info", destination: sink }) });
    try {
      const store = await storeOf(app);
      expect((await store.getUser(user.userId))?.name).toBe("kept");
      expect(await modeOf(dir)).toBe(0o700);
      for (const f of [db, `${db}-wal`, `${db}-shm`]) expect([f, await modeOf(f)]).toEqual([f, 0o600]);
      const warned = lines.filter((l) => l.includes("readable by their owner only"));
      expect(warned).toHaveLength(1);
      expect(JSON.parse(warned[0]!).files).toEqual([dir, db, `${db}-wal`, `${db}-shm`]);
    } finally {
      await app.close();
    }
  });

  it("--db in a folder the user chose: the file is 0600, the existing folder is left alone", async () => {
    const root = await makeTempRoot();
    roots.push(root);
    const shared = path.join(root, "shared");
    await fs.mkdir(shared);
    await fs.chmod(shared, 0o755);
    const store = await openSqliteStore({ file: path.join(shared, "x.sqlite") });
    await store.createUser({ name: "x" }, 1);
    expect(await modeOf(shared)).toBe(0o755);
    expect(await modeOf(path.join(shared, "x.sqlite"))).toBe(0o600);
    expect(await modeOf(path.join(shared, "x.sqlite-wal"))).toBe(0o600);
    await store.close();
    // A missing folder is created 0700, parents included.
    const deep = path.join(root, "new", "deeper", "y.sqlite");
    await (await openSqliteStore({ file: deep })).close();
    expect([await modeOf(path.join(root, "new")), await modeOf(path.dirname(deep)), await modeOf(deep)]).toEqual([0o700, 0o700, 0o600]);
  });
});
