import { execFile } from "node:child_process";
import { mkdir, readFile, symlink, writeFile } from "node:fs/promises";
import { createRequire } from "node:module";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { runJit } from "../helpers/cliRun.ts";
import { makeTempRoot, REPO, removeDir } from "../helpers/http.ts";
import { shopFiles } from "./shopApp.ts";

// `jit types` as a developer uses it: generate the file, then compile code against it with
// tsc. Mistakes in create, filters and orderList are compile errors (@ts-expect-error fails
// the compile if the line were accepted), and correct code compiles.

const TSC = createRequire(import.meta.url).resolve("typescript/bin/tsc");

function tsc(cwd: string): Promise<{ code: number; out: string }> {
  return new Promise((resolve) => {
    execFile(process.execPath, [TSC, "-p", "tsconfig.json"], { cwd, timeout: 120_000 }, (error, stdout, stderr) => {
      resolve({ code: error ? (typeof error.code === "number" ? error.code : 1) : 0, out: stdout + stderr });
    });
  });
}

const CHECK = `import type { App } from "jit-runtime";

export async function use(app: App): Promise<void> {
  const orders = app.getElement("models.OrderModel");
  const row = await orders.create({ userId: 1, item: "tea" });
  const id: number = row.id;
  const note: string | null = row.note;
  await orders.create({ userId: 1, item: "tea", qty: 2, note: null, createdAt: Date.now() });
  await orders.query({ filter: { userId: 1, qty: { ">=": 2 }, item: { like: "t%" } }, orderList: [["createdAt", -1]], page: 1, size: 10 });
  await orders.updateByPK(id, { qty: 3 });
  // @ts-expect-error an unknown field
  await orders.create({ userId: 1, item: "tea", colour: "red" });
  // @ts-expect-error a value of the wrong type
  await orders.create({ userId: "1", item: "tea" });
  // @ts-expect-error a required field missing
  await orders.create({ item: "tea" });
  // @ts-expect-error the id is numbered by the database
  await orders.create({ id: 5, userId: 1, item: "tea" });
  // @ts-expect-error a filter on an unknown field
  await orders.query({ filter: { colour: "red" } });
  // @ts-expect-error an orderList on an unknown field
  await orders.query({ orderList: [["colour", 1]] });
  const login = app.getElement("auths.loginTypes.myWeChatMiniLogin");
  await login.getLoginCode("code");
  // @ts-expect-error not a method of a WeChat login
  await login.noSuchMethod();
  // Untyped names still work with a type argument.
  app.getElement<{ x: number }>("services.Other").x.toFixed();
  void note;
}
`;

describe("jit types", () => {
  let root: string;
  beforeAll(async () => {
    root = await makeTempRoot(shopFiles());
    await mkdir(path.join(root, "node_modules", "@types"), { recursive: true });
    await symlink(REPO, path.join(root, "node_modules", "jit-runtime"), "dir");
    await symlink(path.join(REPO, "node_modules", "@types", "node"), path.join(root, "node_modules", "@types", "node"), "dir");
    const repoConfig = JSON.parse(await readFile(path.join(REPO, "tsconfig.json"), "utf8"));
    await writeFile(path.join(root, "tsconfig.json"), JSON.stringify({ compilerOptions: repoConfig.compilerOptions, files: ["check.ts", "jit-types.d.ts"] }));
  });
  afterAll(async () => {
    if (root) await removeDir(root);
  });

  it("writes one file typing getElement by fullName, with row types from the model's fields", async () => {
    const run = await runJit(["--root", root, "--app", "demo", "types"], {});
    expect(run.code, run.stderr).toBe(0);
    expect(run.stdout).toMatch(/wrote .*jit-types\.d\.ts \(app demo\)/);
    const text = await readFile(path.join(root, "jit-types.d.ts"), "utf8");
    expect(text).toContain('"models.OrderModel": TypedModel<ModelsOrderModelRow, ModelsOrderModelInput, "id">;');
    expect(text).toContain('"auths.loginTypes.myWeChatMiniLogin": WeChatMiniLogin;');
    expect(text).toMatch(/export interface ModelsOrderModelInput \{\n {2}userId: number;\n {2}item: string;\n {2}qty\?: number \| null;/);
  });

  it("makes a wrong field name or value type a tsc error, and compiles correct code", { timeout: 180_000 }, async () => {
    await writeFile(path.join(root, "check.ts"), CHECK);
    const ok = await tsc(root);
    expect(ok.out).toBe("");
    expect(ok.code).toBe(0);
    // The same mistake without @ts-expect-error fails the compile, naming the field.
    await writeFile(path.join(root, "check.ts"), CHECK.replace(/\/\/ @ts-expect-error an unknown field\n/, ""));
    const bad = await tsc(root);
    expect(bad.code).not.toBe(0);
    expect(bad.out).toMatch(/check\.ts\(\d+,\d+\): error TS2353: Object literal may only specify known properties, and 'colour' does not exist/);
  });
});
