import { afterEach, describe, expect, it } from "vitest";
import { parseJson } from "../runtime/registry/json.ts";
import { silentLogger } from "../runtime/logging/logger.ts";
import { appJson, loadFixtureApp, greeterFamily, makeFixture, type Tree } from "./helpers/appFixture.ts";

interface Failure {
  code: string;
  message: string;
  problems: Array<{ code: string; file?: string; pointer?: string; message: string }>;
}

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function loadError(tree: Tree, env: Record<string, string> = {}): Promise<{ err: Failure; root: string }> {
  const fx = await makeFixture(tree);
  cleanups.push(fx.cleanup);
  const err = await loadFixtureApp({ root: fx.root, logger: silentLogger, env }).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "loadApp should have failed").toBeDefined();
  return { err: err as Failure, root: fx.root };
}

const SECRET = "s3cr3t-value"; // from greeterFamily's business config

describe("declaration errors: one error lists every problem", () => {
  it("reports every distinct problem with file and pointer, never echoing values", async () => {
    const tree: Tree = {
      ...greeterFamily(),
      ...appJson("demo"),
      "apps/demo/app.json": { appId: "demo", title: 5, extends: [] },
      // JSON_MALFORMED with line/column
      "elements/bad/json/e.json": `{\n  "title": "x",\n  "type": "" ,\n  "oops"\n}\n`,
      // SCHEMA_INVALID (base schema): title missing, accessModifier wrong
      "elements/bad/schema/e.json": { type: "demo.GreeterType", accessModifier: "friends", frontBundleEntry: "./c.json" },
      "elements/bad/schema/c.json": { auth: { appId: "a", appSecret: SECRET } },
      // SCHEMA_INVALID from the Meta's e.schema.json
      "elements/bad/allow/e.json": { title: "a", type: "demo.GreeterType", allowRegister: 2, greeting: "g", auth: { appId: "a", appSecret: "b" } },
      // TYPE_NOT_FOUND
      "elements/bad/orphan/e.json": { title: "o", type: "demo.NoSuchType" },
      // TYPE_CYCLE
      "elements/bad/cycA/e.json": { title: "a", type: "bad.cycB", isType: true },
      "elements/bad/cycB/e.json": { title: "b", type: "bad.cycA", isType: true },
      // META_AS_INSTANCE_TYPE
      "elements/bad/metaInst/e.json": { title: "m", type: "demo.Meta", isType: false },
      // META_AS_INSTANCE_TYPE in the seed's format: a business config marks an instance
      // (regression: this was quietly taken for a Type and its config ignored)
      "elements/bad/metaSeed/e.json": { title: "m2", type: "demo.Meta", backendBundleEntry: ".", frontBundleEntry: "./c.json" },
      "elements/bad/metaSeed/c.json": { auth: { appId: "a", appSecret: SECRET } },
      // FILE_UNREADABLE: the business config is a folder
      "elements/bad/dirConfig/e.json": { title: "dc", type: "demo.GreeterType", frontBundleEntry: "./cfg.json", greeting: "g", auth: { appId: "a", appSecret: "b" } },
      "elements/bad/dirConfig/cfg.json/keep.txt": "a folder named like a config file",
      // OVERRIDE_TYPE_CHANGED: an app override of a platform instance naming another type
      "elements/bad/base/e.json": { title: "b", type: "demo.Meta" },
      "apps/demo/elements/bad/base/e.json": { title: "b2", type: "demo.GreeterType" },
      // INSTANCE_AS_TYPE
      "elements/bad/instType/e.json": { title: "i", type: "demo.hello" },
      // DUPLICATE_ELEMENT: "bad.dup" twice in one layer
      "elements/bad/dup/e.json": { title: "d1", type: "" },
      "elements/bad.dup/e.json": { title: "d2", type: "" },
      // CONFIG_FILE_MISSING
      "elements/bad/noConfig/e.json": { title: "n", type: "demo.GreeterType", frontBundleEntry: "./missing.json", greeting: "g", auth: { appId: "a", appSecret: "b" } },
      // MODULE_LOAD_FAILED (Type module exporting a class instead of a factory)
      "elements/bad/code/e.json": { title: "c", type: "demo.Meta", backendBundleEntry: "." },
      "elements/bad/code/index.ts": "export default class NotAFactory {}\n",
      // CONFIG_INVALID: ${ENV} not set
      "elements/bad/env/e.json": { title: "e", type: "demo.GreeterType", frontBundleEntry: "./env.json" },
      "elements/bad/env/env.json": { auth: { appId: "a", appSecret: "${NOT_SET_SECRET}" } },
      // OVERRIDE_PROTECTED
      "elements/bad/locked/e.json": { title: "l", type: "", accessModifier: "protected" },
      "apps/demo/elements/bad/locked/e.json": { title: "l2", type: "" },
    };
    const { err, root } = await loadError(tree);
    expect(err.code).toBe("DECLARATION_INVALID");
    const codes = new Set(err.problems.map((p) => p.code));
    for (const code of [
      "JSON_MALFORMED",
      "SCHEMA_INVALID",
      "TYPE_NOT_FOUND",
      "TYPE_CYCLE",
      "META_AS_INSTANCE_TYPE",
      "INSTANCE_AS_TYPE",
      "DUPLICATE_ELEMENT",
      "OVERRIDE_PROTECTED",
      "CONFIG_FILE_MISSING",
      "MODULE_LOAD_FAILED",
      "APP_INVALID",
      "CONFIG_INVALID",
      "FILE_UNREADABLE",
      "OVERRIDE_TYPE_CHANGED",
    ]) {
      expect(codes, code).toContain(code);
    }
    expect(err.message).toBe(`${err.problems.length} problem(s) in element declarations`);
    const find = (code: string, fileEnd: string) => err.problems.find((p) => p.code === code && p.file?.endsWith(fileEnd));

    expect(find("JSON_MALFORMED", "bad/json/e.json")!.message).toContain("line 5, column 1");
    expect(err.problems.find((p) => p.file?.endsWith("bad/schema/e.json") && p.pointer === "/title")!.message).toContain("is required");
    expect(err.problems.find((p) => p.file?.endsWith("bad/schema/e.json") && p.pointer === "/accessModifier")!.message).toContain('"public"');
    expect(find("SCHEMA_INVALID", "bad/allow/e.json")).toMatchObject({ pointer: "/allowRegister" });
    expect(find("TYPE_NOT_FOUND", "bad/orphan/e.json")!.message).toContain("demo.NoSuchType");
    expect(err.problems.filter((p) => p.code === "TYPE_CYCLE")).toHaveLength(1);
    expect(err.problems.find((p) => p.code === "TYPE_CYCLE")!.message).toMatch(/bad\.cyc[AB] -> bad\.cyc[AB] -> bad\.cyc[AB]/);
    expect(find("META_AS_INSTANCE_TYPE", "bad/metaInst/e.json")).toBeDefined();
    expect(find("META_AS_INSTANCE_TYPE", "bad/metaSeed/e.json")).toMatchObject({ pointer: "/type" });
    expect(find("FILE_UNREADABLE", "bad/dirConfig/cfg.json")!.message).toContain("EISDIR (is a directory)");
    expect(find("OVERRIDE_TYPE_CHANGED", "apps/demo/elements/bad/base/e.json")).toMatchObject({ pointer: "/type" });
    expect(find("INSTANCE_AS_TYPE", "bad/instType/e.json")!.message).toContain("demo/hello/e.json");
    const dup = err.problems.find((p) => p.code === "DUPLICATE_ELEMENT")!;
    expect(dup.message).toContain(`${root}/elements/bad/dup/e.json`);
    expect(dup.message).toContain(`${root}/elements/bad.dup/e.json`);
    expect(find("CONFIG_FILE_MISSING", "bad/noConfig/e.json")).toMatchObject({ pointer: "/frontBundleEntry" });
    expect(find("MODULE_LOAD_FAILED", "bad/code/index.ts")!.message).toContain("(Parent) => class extends Parent");
    expect(find("CONFIG_INVALID", "bad/env/env.json")).toMatchObject({ pointer: "/auth/appSecret" });
    expect(find("CONFIG_INVALID", "bad/env/env.json")!.message).toContain("NOT_SET_SECRET");
    expect(find("OVERRIDE_PROTECTED", "apps/demo/elements/bad/locked/e.json")).toBeDefined();
    expect(find("APP_INVALID", "apps/demo/app.json")).toMatchObject({ pointer: "/title" });
    for (const p of err.problems) expect(p.message).not.toContain(SECRET);
    expect(JSON.stringify(err)).not.toContain(SECRET);
  });

  it("effective-config problems name the file the offending value comes from", async () => {
    const tree: Tree = {
      ...greeterFamily(),
      ...appJson("demo"),
      // wrong type in the business config; missing required appSecret → the business config
      "elements/demo/hello/hello.json": { auth: { appId: 42 } },
      // wrong type coming from the instance e.json
      "elements/demo/other/e.json": { title: "o", type: "demo.GreeterType", greeting: 7, auth: { appId: "a", appSecret: "b" } },
    };
    const { err } = await loadError(tree);
    const lines = err.problems.map((p) => `${p.code} ${p.file!.replace(/^.*\/elements\//, "")}#${p.pointer}`).sort();
    expect(lines).toEqual([
      "SCHEMA_INVALID demo/hello/hello.json#/auth/appId",
      "SCHEMA_INVALID demo/hello/hello.json#/auth/appSecret",
      "SCHEMA_INVALID demo/other/e.json#/greeting",
    ]);
  });

  it("a wrong value from Type defaults points at the Type's e.json", async () => {
    const tree = greeterFamily();
    tree["elements/demo/GreeterType/e.json"] = { ...(tree["elements/demo/GreeterType/e.json"] as object), defaults: { greeting: ["not", "a", "string"] } };
    const { err } = await loadError({ ...tree, ...appJson("demo") });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ code: "SCHEMA_INVALID", pointer: "/greeting" });
    expect(err.problems[0]!.file).toMatch(/elements\/demo\/GreeterType\/e\.json$/);
  });

  it("${NAME} in a business config reads the environment", async () => {
    const fx = await makeFixture({ ...greeterFamily(), ...appJson("demo"), "elements/demo/hello/hello.json": { auth: { appId: "a", appSecret: "${HELLO_SECRET}" } } });
    cleanups.push(fx.cleanup);
    const app = await loadFixtureApp({ root: fx.root, logger: silentLogger, env: { HELLO_SECRET: "from-env" } });
    const config = app.getElementDefine("demo.hello").config as { auth: { appSecret: string } };
    expect(config.auth.appSecret).toBe("from-env");
    expect(Object.isFrozen(config.auth)).toBe(true);
    expect(() => {
      (config.auth as { appSecret: string }).appSecret = "x";
    }).toThrow(TypeError);
  });

  it("an invalid schema file is SCHEMA_INVALID naming the schema", async () => {
    const tree = greeterFamily();
    tree["elements/demo/GreeterType/config.schema.json"] = { type: "object", properties: { a: { type: "strnig" } } };
    const { err } = await loadError({ ...tree, ...appJson("demo") });
    expect(err.problems.map((p) => p.code)).toEqual(["SCHEMA_INVALID"]);
    expect(err.problems[0]!.file).toMatch(/config\.schema\.json$/);
  });
});

describe("parseJson", () => {
  it("gives line and column without quoting the input", () => {
    const r = parseJson('{\n  "secret": "abc",\n  "x": tru\n}');
    expect(r).toMatchObject({ ok: false, line: 3, column: 8 });
    expect(JSON.stringify(r)).not.toContain("abc");
    expect(parseJson("\uFEFF{\"a\":1}")).toEqual({ ok: true, value: { a: 1 } });
    expect(parseJson('{"a":1} x')).toMatchObject({ ok: false, line: 1, column: 9 });
    expect(parseJson('{"a":')).toMatchObject({ ok: false, reason: "unexpected end of input" });
  });
});
