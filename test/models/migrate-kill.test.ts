import { writeFile } from "node:fs/promises";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runJit } from "../helpers/cliRun.ts";
import { makeTempRoot, removeDir, TEST_MASTER_KEY } from "../helpers/http.ts";
import { JIT_BIN, startChild } from "../helpers/httpChild.ts";
import { ORDER_MODEL } from "./fixture.ts";
import { shopFiles } from "./shopApp.ts";

// `jit migrate` killed with SIGKILL before each statement of its migration and before its
// COMMIT (the test-only crash point of migrations.ts), on a table of 200,000 rows: after
// every kill the database holds the old schema and the old record of it, never a mix, and
// the next run completes it with every row.

const ROWS = 200_000;
const NEW_FIELDS = [
  { name: "status", dataType: "Stext", default: "new", dbIndex: true },
  { name: "channel", dataType: "Stext", default: "app", unique: false },
  { name: "price", dataType: "Money", default: "0" },
];

describe("a migration killed mid-way", () => {
  let root: string;
  let file: string;
  beforeAll(async () => {
    root = await makeTempRoot(shopFiles());
    file = path.join(root, "data.sqlite");
    const env = { JIT_MASTER_KEY: TEST_MASTER_KEY, JIT_DB: file };
    expect((await runJit(["--root", root, "--app", "demo", "migrate"], env)).code).toBe(0);
    const db = new Database(file);
    const insert = db.prepare(`INSERT INTO "models.OrderModel" ("userId", "item", "qty", "note", "createdAt") VALUES (?, ?, ?, ?, ?)`);
    db.transaction(() => {
      for (let i = 0; i < ROWS; i++) insert.run(i % 1000, `item-${i}`, i % 7, i % 2 ? `note ${i}` : null, 1_700_000_000_000 + i);
    })();
    db.close();
    await writeFile(path.join(root, "apps/demo/elements/models/OrderModel/e.json"), JSON.stringify({ ...ORDER_MODEL, fields: [...ORDER_MODEL.fields, ...NEW_FIELDS] }));
  }, 120_000);
  afterAll(async () => {
    if (root) await removeDir(root);
  });

  function schemaState(): "old" | "new" {
    const db = new Database(file, { readonly: true });
    try {
      const columns = (db.prepare(`PRAGMA table_info("models.OrderModel")`).all() as { name: string }[]).map((c) => c.name);
      const recorded = JSON.parse((db.prepare(`SELECT state FROM jit_models WHERE model = ?`).get("models.OrderModel") as { state: string }).state) as { fields: { name: string }[] };
      const indexes = (db.prepare(`PRAGMA index_list("models.OrderModel")`).all() as { name: string }[]).map((i) => i.name);
      const added = NEW_FIELDS.map((f) => columns.includes(f.name));
      const inRecord = NEW_FIELDS.map((f) => recorded.fields.some((r) => r.name === f.name));
      const indexed = indexes.includes("models.OrderModel.i.status");
      if (added.every((a) => !a) && inRecord.every((a) => !a) && !indexed) return "old";
      if (added.every(Boolean) && inRecord.every(Boolean) && indexed) return "new";
      throw new Error(`a mix: columns ${JSON.stringify(added)}, record ${JSON.stringify(inRecord)}, index ${indexed}`);
    } finally {
      db.close();
    }
  }

  it("leaves the old schema or the new after a kill at every statement, and the next run completes it", { timeout: 300_000 }, async () => {
    const env = { JIT_MASTER_KEY: TEST_MASTER_KEY, JIT_DB: file, JIT_LOG_LEVEL: "warn", NODE_ENV: "test" };
    const plan = await runJit(["--root", root, "--app", "demo", "migrate", "--plan"], env);
    const statements = 4; // three ADD COLUMN, one CREATE INDEX
    expect(plan.stdout).toMatch(/: 4 step\(s\)\n/);
    for (const at of [...Array.from({ length: statements }, (_, i) => String(i + 1)), "end"]) {
      const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "migrate"], { ...env, JIT_TEST_CRASH_AT: `modelsMigrate:${at}` });
      const exit = await child.exited;
      expect(exit.signal, `killed at ${at}`).toBe("SIGKILL");
      expect(schemaState(), `after a kill at ${at}`).toBe("old");
    }
    const done = await runJit(["--root", root, "--app", "demo", "migrate"], { JIT_MASTER_KEY: TEST_MASTER_KEY, JIT_DB: file });
    expect(done.code, done.stderr).toBe(0);
    expect(schemaState()).toBe("new");
    const db = new Database(file, { readonly: true });
    const row = db.prepare(`SELECT count(*) AS n, sum("status" = 'new') AS s, sum("price" = 0) AS p FROM "models.OrderModel"`).get() as { n: number; s: number; p: number };
    db.close();
    expect(row).toEqual({ n: ROWS, s: ROWS, p: ROWS });
  });
});
