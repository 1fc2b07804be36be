/**
 * `jit dev` as a real child process, on a SQLite file: a saved model declaration runs its safe
 * migration steps before the new version serves (one line per step applied), and an unsafe
 * step is named with the command that confirms it while the last good version keeps serving.
 */
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, removeDir, TEST_MASTER_KEY } from "./helpers/http.ts";
import { runJit } from "./helpers/cliRun.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";
import { writeTree } from "./helpers/appFixture.ts";

const MODEL = "apps/shop/elements/models/NoteModel/e.json";
const SERVICE = "apps/shop/elements/services/NoteSvc";

const noteModel = (extra: Array<Record<string, unknown>> = []) => ({
  type: "models.NormalType",
  title: "Note",
  fields: [
    { name: "id", title: "ID", dataType: "AutoInt", primaryKey: true },
    { name: "text", title: "Text", dataType: "Stext", maxLength: 64 },
    ...extra,
  ],
});

const files: Record<string, unknown> = {
  "package.json": { type: "module", private: true },
  "apps/shop/app.json": { appId: "shop", title: "shop", version: "0.1.0", extends: [] },
  [MODEL]: noteModel(),
  [`${SERVICE}/e.json`]: {
    title: "Notes",
    type: "services.NormalType",
    backendBundleEntry: ".",
    functionList: [
      { name: "add", title: "Add", args: [{ name: "text", title: "Text", dataType: "Stext" }], loginRequired: 0 },
      { name: "list", title: "List", args: [], loginRequired: 0 },
    ],
  },
  [`${SERVICE}/index.ts`]: `export default (Parent: any) => class extends Parent {
  get notes(): any { return this.app.getElement("models.NoteModel"); }
  add(text: string) { return this.notes.create({ text }); }
  async list() { return (await this.notes.query({ orderList: [["id", 1]], size: 100 })).rowDatas; }
};
`,
};

describe("jit dev: a changed model", () => {
  let root: string;
  let child: Child;
  let base: string;

  beforeAll(async () => {
    root = await fs.mkdtemp(path.join(os.tmpdir(), "jit-dev-models-"));
    await writeTree(root, files);
    child = startChild([JIT_BIN, "--root", root, "dev", "--port", "0"], {
      JIT_DB: undefined,
      DATABASE_URL: undefined,
      WECHAT_API_BASE: undefined,
      JIT_ADMIN_TOKEN: "dev-models-admin-token-0123456789abcdef",
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "warn",
    });
    base = (await child.waitFor(/app shop listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    await child.waitFor(/watching .* for changes/);
  }, 90_000);
  afterAll(async () => {
    child?.kill("SIGKILL");
    await child?.exited;
    if (root) await removeDir(root);
  });

  const call = async (fn: string, body?: unknown) => {
    const res = await post(base, `/api/shop/services/NoteSvc/${fn}`, body);
    expect(res.status, res.text).toBe(200);
    return res.body.data;
  };
  let reloads = 0;
  /** Waits for shop's next reload report, and returns the output since the previous one. */
  const nextReport = async () => {
    reloads += 1;
    const reports = () => [...child.stdout().matchAll(/jit dev: app shop (?:reloaded|NOT reloaded)[^\n]*\n(?:  [^\n]*\n)*/g)];
    const deadline = Date.now() + 20_000;
    while (reports().length < reloads) {
      if (Date.now() > deadline) throw new Error(`no reload report ${reloads}; stdout:\n${child.stdout()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    const all = reports();
    const end = all[reloads - 1]!.index! + all[reloads - 1]![0].length;
    const start = reloads > 1 ? all[reloads - 2]!.index! + all[reloads - 2]![0].length : 0;
    return child.stdout().slice(start, end);
  };

  it("an added field is migrated before the new version serves: rows come back with its default, old data kept", async () => {
    await call("add", { text: "first" });
    expect(await call("list")).toEqual([{ id: 1, text: "first" }]);

    await writeTree(root, { [MODEL]: noteModel([{ name: "stars", title: "Stars", dataType: "Numeric", default: 3 }]) });
    const output = await nextReport();
    expect(output).toMatch(/jit dev: app shop: migrated: add column stars Numeric to \S+ \(existing rows get the default 3\)\n/);
    expect(output).toMatch(/jit dev: app shop reloaded: version 2 serves from the next request/);
    expect(await call("list")).toEqual([{ id: 1, text: "first", stars: 3 }]);
    await call("add", { text: "second" });
    expect(await call("list")).toEqual([
      { id: 1, text: "first", stars: 3 },
      { id: 2, text: "second", stars: 3 },
    ]);
  }, 40_000);

  it("a changed data type is unsafe: named with the command that confirms it, and the last good version keeps serving", async () => {
    await writeTree(root, { [MODEL]: noteModel([{ name: "stars", title: "Stars", dataType: "Stext", default: "3" }]) });
    const output = await nextReport();
    expect(output).toContain("jit dev: app shop NOT reloaded: 1 problem; version 2 keeps serving until fixed");
    expect(output).toMatch(/  MIGRATION_UNSAFE .*models\.NoteModel\.stars: change stars from Numeric to Stext/);
    expect(output).toContain("(confirm with: jit migrate --confirm models.NoteModel.stars)");
    expect(output).not.toContain("migrated:");
    // Nothing changed: the old version answers, on the old column.
    expect(await call("list")).toEqual([
      { id: 1, text: "first", stars: 3 },
      { id: 2, text: "second", stars: 3 },
    ]);
    const overview = (await (await fetch(`${base}/console/api/overview?app=shop`, { headers: { authorization: "Bearer dev-models-admin-token-0123456789abcdef" } })).json()) as {
      apps: { appId: string; problems: { code: string }[] }[];
    };
    expect(overview.apps.find((a) => a.appId === "shop")!.problems).toEqual([expect.objectContaining({ code: "MIGRATION_UNSAFE" })]);
  }, 40_000);

  it("once the step is confirmed with jit migrate, the next save serves the new version", async () => {
    const confirmed = await runJit(["--root", root, "migrate", "--db", path.join(root, ".jit", "shop.sqlite"), "--confirm", "models.NoteModel.stars"], { JIT_MASTER_KEY: TEST_MASTER_KEY });
    expect(confirmed.code, confirmed.stderr).toBe(0);
    await writeTree(root, { [MODEL]: noteModel([{ name: "stars", title: "Stars", dataType: "Stext", default: "3" }]) });
    const output = await nextReport();
    expect(output).toMatch(/jit dev: app shop reloaded: version 3 serves from the next request \(\d+ ms\); the problems are fixed/);
    // The new column starts with its default; the old numbers stay in the kept column.
    expect(await call("list")).toEqual([
      { id: 1, text: "first", stars: "3" },
      { id: 2, text: "second", stars: "3" },
    ]);
    const file = new Database(path.join(root, ".jit", "shop.sqlite"), { readonly: true });
    try {
      expect(file.prepare("SELECT id, stars__wasNumeric AS was FROM \"models.NoteModel\" ORDER BY id").all()).toEqual([
        { id: 1, was: 3 },
        { id: 2, was: 3 },
      ]);
    } finally {
      file.close();
    }
  }, 40_000);
});
