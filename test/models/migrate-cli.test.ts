import { writeFile } from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { errorOf, runJit } from "../helpers/cliRun.ts";
import { makeTempRoot, removeDir, TEST_MASTER_KEY } from "../helpers/http.ts";
import { JIT_BIN, startChild } from "../helpers/httpChild.ts";
import { ORDER_MODEL } from "./fixture.ts";
import { shopFiles } from "./shopApp.ts";

// `jit migrate` and `jit serve` as a developer runs them, on a SQLite file.

describe("jit migrate and jit serve with models", () => {
  let root: string;
  let env: Record<string, string>;
  const modelFile = () => path.join(root, "apps/demo/elements/models/OrderModel/e.json");
  const declare = (fields: unknown[]) => writeFile(modelFile(), JSON.stringify({ ...ORDER_MODEL, fields }));
  const jit = (...args: string[]) => runJit(["--root", root, "--app", "demo", ...args], env);

  beforeAll(async () => {
    root = await makeTempRoot(shopFiles());
    env = { JIT_MASTER_KEY: TEST_MASTER_KEY, JIT_DB: path.join(root, "data.sqlite") };
  });
  afterAll(async () => {
    if (root) await removeDir(root);
  });

  it("--plan prints every step marked safe and changes nothing; jit migrate applies them", { timeout: 120_000 }, async () => {
    const plan = await jit("migrate", "--plan");
    expect(plan.code, plan.stderr).toBe(0);
    expect(plan.stdout).toMatch(/2 step\(s\)\n  safe     create table models\.OrderModel \(6 fields\)\n  safe     add index models\.OrderModel\.i\.userId on userId/);
    expect((await jit("migrate", "--plan")).stdout).toMatch(/2 step\(s\)/);
    const run = await jit("migrate");
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/applied 2 step\(s\)/);
    expect((await jit("migrate", "--plan")).stdout).toMatch(/every model is up to date/);
    const created = await jit("call", "models.OrderModel", "create", JSON.stringify({ userId: 1, item: "tea", note: "hot" }));
    expect(created.code).toBe(1); // a model has no functionList: scripts and services reach it, not jit call
    expect(errorOf(created.stderr)?.code).toBe("FUNCTION_NOT_FOUND");
    const placed = await jit("call", "services.OrderSvc", "placeOrder", "tea", "2", "--as", "1");
    expect(placed.code, placed.stderr).toBe(0);
    expect(JSON.parse(placed.stdout)).toMatchObject({ userId: 1, item: "tea", qty: 2 });
  });

  it("jit serve refuses to start on an unsafe step, naming it and the command that confirms it", { timeout: 120_000 }, async () => {
    await declare(ORDER_MODEL.fields.map((f) => (f.name === "qty" ? { ...f, dataType: "Stext", default: "1" } : f)));
    const plan = await jit("migrate", "--plan");
    expect(plan.stdout).toMatch(/UNSAFE   change qty from Numeric to Stext[^\n]*\n\s+changes the data type of 1 existing row\(s\)\n\s+confirm with: jit migrate --confirm models\.OrderModel\.qty/);
    const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0"], { ...env, JIT_LOG_LEVEL: "warn" });
    const exit = await child.exited;
    expect(exit.code).toBe(1);
    expect(child.stderr()).toMatch(/MIGRATION_UNSAFE/);
    expect(child.stderr()).toMatch(/jit migrate --confirm models\.OrderModel\.qty/);
    const refused = await jit("migrate");
    expect(refused.code).toBe(1);
    expect(refused.stderr).toMatch(/^MIGRATION_UNSAFE database \S+: 1 unsafe migration step\(s\) pending, nothing was changed: models\.OrderModel\.qty: change qty/m);
    const confirmed = await jit("migrate", "--confirm", "models.OrderModel.qty");
    expect(confirmed.code, confirmed.stderr).toBe(0);
    expect(confirmed.stdout).toMatch(/confirmed change qty from Numeric to Stext/);
  });

  it("--drop shows what it deletes and deletes only with --yes", { timeout: 120_000 }, async () => {
    await declare(ORDER_MODEL.fields.filter((f) => f.name !== "note").map((f) => (f.name === "qty" ? { ...f, dataType: "Stext", default: "1" } : f)));
    expect((await jit("migrate")).stdout).toMatch(/field note is no longer declared: its column and data stay/);
    const preview = await jit("migrate", "--drop", "models.OrderModel.note");
    expect(preview.code).toBe(1);
    expect(preview.stdout).toMatch(/would delete column note of models\.OrderModel: 0 row\(s\) hold a value there\.\nNothing was changed\. Rerun with --yes/);
    const dropped = await jit("migrate", "--drop", "models.OrderModel.note", "--yes");
    expect(dropped.code, dropped.stderr).toBe(0);
    expect(dropped.stdout).toMatch(/dropped column note of models\.OrderModel/);
    const again = await jit("migrate", "--drop", "models.OrderModel.note");
    expect(again.stderr).toMatch(/^MIGRATION_REFUSED database \S+: cannot drop models\.OrderModel\.note: models\.OrderModel keeps no column note/m);
  });
});
