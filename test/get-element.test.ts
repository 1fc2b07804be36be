import fs from "node:fs/promises";
import path from "node:path";
import { afterEach, describe, expect, it } from "vitest";
import { ElementBase } from "../runtime/index.ts";
import { silentLogger } from "../runtime/logging/logger.ts";
import type { Store } from "../elements/auths/storage/Store.ts";
import { appJson, loadFixtureApp, ELEMENT_BASE_URL, greeterFamily, makeFixture, type Tree } from "./helpers/appFixture.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function fixture(tree: Tree): Promise<string> {
  const fx = await makeFixture(tree);
  cleanups.push(fx.cleanup);
  return fx.root;
}

// The Type counts constructions on globalThis, keyed by the fixture root.
function countingFamily(): Tree {
  const tree = greeterFamily();
  tree["elements/demo/GreeterType/index.ts"] = `export default (Parent: any) => class Counted extends Parent {
  constructor(init: any) {
    super(init);
    const g = globalThis as any;
    g.__constructed = (g.__constructed ?? 0) + 1;
  }
  greet(who: string) { return this.config.greeting + " " + who; }
};
`;
  return tree;
}

const constructed = () => ((globalThis as { __constructed?: number }).__constructed ?? 0);

describe("app.getElement", () => {
  it("instantiates lazily on first use and returns the same object afterwards, per App", async () => {
    const root = await fixture({ ...countingFamily(), ...appJson("demo") });
    const before = constructed();
    const app = await loadFixtureApp({ root, logger: silentLogger, env: {} });
    expect(constructed()).toBe(before); // loading instantiates nothing
    app.getElementDefine("demo.hello");
    expect(app.findElements({ type: "demo.GreeterType" })).toHaveLength(1);
    expect(constructed()).toBe(before); // neither do defines
    const first = app.getElement<{ greet(w: string): string; fullName: string; app: unknown }>("demo.hello");
    expect(constructed()).toBe(before + 1);
    expect(app.getElement("demo.hello")).toBe(first);
    expect(constructed()).toBe(before + 1);
    expect(first).toBeInstanceOf(ElementBase);
    expect(first.fullName).toBe("demo.hello");
    expect(first.app).toBe(app);
    expect(first.greet("z")).toBe("hello z");

    const other = await loadFixtureApp({ root, logger: silentLogger, env: {} });
    expect(other.getElement("demo.hello")).not.toBe(first);
  });

  it("returns the class of a Type or Meta", async () => {
    const app = await loadFixtureApp({ root: await fixture({ ...greeterFamily(), ...appJson("demo") }), logger: silentLogger, env: {} });
    const TypeClass = app.getElement<new (...a: never[]) => unknown>("demo.GreeterType");
    const MetaClass = app.getElement<new (...a: never[]) => unknown>("demo.Meta");
    expect(typeof TypeClass).toBe("function");
    expect(TypeClass.prototype).toBeInstanceOf(MetaClass);
    expect(MetaClass.prototype).toBeInstanceOf(ElementBase);
    expect(app.getElement("demo.hello")).toBeInstanceOf(TypeClass);
  });

  it("an unknown name is ELEMENT_NOT_FOUND with the nearest names suggested", async () => {
    const app = await loadFixtureApp({ root: await fixture({ ...greeterFamily(), ...appJson("demo") }), logger: silentLogger, env: {} });
    expect(() => app.getElement("demo.helo")).toThrow(expect.objectContaining({ code: "ELEMENT_NOT_FOUND", message: 'element "demo.helo" not found (did you mean demo.hello, demo.Meta?)' }));
    expect(() => app.getElementDefine("zzzzzzzzzzzzzzzzzzzzzz")).toThrow(expect.objectContaining({ code: "ELEMENT_NOT_FOUND", message: 'element "zzzzzzzzzzzzzzzzzzzzzz" not found' }));
    // Exact match only.
    expect(() => app.getElement("Demo.hello")).toThrow(expect.objectContaining({ code: "ELEMENT_NOT_FOUND" }));
  });

  it("getElementDefine merges config lowest first and masks nothing (getMaskedConfig does)", async () => {
    const app = await loadFixtureApp({ root: await fixture({ ...greeterFamily(), ...appJson("demo") }), logger: silentLogger, env: {} });
    const define = app.getElementDefine("demo.hello");
    expect(define.config).toEqual({
      greeting: "hello",
      nested: { a: 1, b: 3 },
      list: [1, 2],
      allowRegister: 0,
      auth: { appId: "wx-hello", appSecret: "s3cr3t-value", pin: "1234" },
    });
    expect(Object.isFrozen(define.config)).toBe(true);
    expect(app.getMaskedConfig("demo.hello")).toMatchObject({ auth: { appId: "wx-hello", appSecret: "******", pin: "******" } });
    expect(define.functionList).toEqual([{ name: "greet", title: "Greet", args: [{ name: "who", dataType: "Stext" }], loginRequired: 0 }]);
    expect(app.listElements().map((d) => `${d.fullName}:${d.kind}`)).toEqual(["demo.GreeterType:type", "demo.Meta:meta", "demo.hello:instance"]);
  });

  it("instances may carry their own code (service elements)", async () => {
    const app = await loadFixtureApp({
      root: await fixture({
        ...appJson("demo"),
        "elements/services/Meta/e.json": { title: "Services", type: "" },
        "elements/services/NormalType/e.json": { title: "Normal service", type: "services.Meta" },
        "apps/demo/elements/svc/Clock/e.json": { title: "Clock svc", type: "services.NormalType", backendBundleEntry: "." },
        "apps/demo/elements/svc/Clock/index.ts": `export default (P: any) => class ClockSvc extends P { now() { return this.app.clock.now(); } };\n`,
      }),
      logger: silentLogger,
      env: {},
      clock: { now: () => 42 },
    });
    expect(app.getElement<{ now(): number }>("svc.Clock").now()).toBe(42);
    // Meta without a module → ElementBase itself.
    expect(app.getElement("services.Meta")).toBe(ElementBase);
  });

  it("getStore returns the injected store once; close leaves an injected store open", async () => {
    let closed = 0;
    const store = { close: async () => void closed++ } as unknown as Store;
    const app = await loadFixtureApp({ root: await fixture({ ...greeterFamily(), ...appJson("demo") }), logger: silentLogger, env: {}, store });
    expect(await storeOf(app)).toBe(store);
    expect(await storeOf(app)).toBe(store);
    await app.close();
    await app.close();
    expect(closed).toBe(0);
  });

  it("a failed database open is not cached: the next getDatabase opens the file once it is fixed", async () => {
    const root = await fixture({ ...greeterFamily(), ...appJson("demo") });
    const file = path.join(root, "data", "app.sqlite");
    await fs.mkdir(path.dirname(file), { recursive: true });
    await fs.writeFile(file, "this is not a database, just some text that is long enough ".repeat(20));
    const app = await loadFixtureApp({ root, logger: silentLogger, env: {}, dbFile: file });
    try {
      await expect(app.getDatabase()).rejects.toMatchObject({ code: "STORE_OPEN_FAILED", params: { file } });
      await expect(app.getDatabase()).rejects.toMatchObject({ code: "STORE_OPEN_FAILED" });
      await fs.rm(file);
      const db = await app.getDatabase();
      expect(await app.getDatabase()).toBe(db);
      await db.ping();
    } finally {
      await app.close();
    }
    // An app closed before its database ever opened does not open one that nothing would close.
    const closed = await loadFixtureApp({ root, logger: silentLogger, env: {}, dbFile: path.join(root, "data", "never.sqlite") });
    await closed.close();
    await expect(closed.getDatabase()).rejects.toMatchObject({ code: "STORE_CLOSED" });
    await expect(closed.getStore()).rejects.toMatchObject({ code: "STORE_CLOSED" });
    await expect(fs.stat(path.join(root, "data", "never.sqlite"))).rejects.toMatchObject({ code: "ENOENT" });
  });

  it("an empty JIT_DB counts as unset: the database is <root>/.jit/<appId>.sqlite (database/location.ts)", async () => {
    const root = await fixture({ ...greeterFamily(), ...appJson("demo") });
    const app = await loadFixtureApp({ root, logger: silentLogger, env: { JIT_DB: "" } });
    try {
      expect(app.dbFile).toBe(path.join(root, ".jit", "demo.sqlite"));
      await app.getDatabase();
      await expect(fs.stat(path.join(root, ".jit", "demo.sqlite"))).resolves.toMatchObject({ size: expect.any(Number) });
    } finally {
      await app.close();
    }
    const explicit = await loadFixtureApp({ root, logger: silentLogger, env: { JIT_DB: "" }, dbFile: "rel/x.sqlite" });
    expect(explicit.dbFile).toBe(path.resolve("rel/x.sqlite"));
    const fromEnv = await loadFixtureApp({ root, logger: silentLogger, env: { JIT_DB: path.join(root, "env.sqlite") } });
    expect(fromEnv.dbFile).toBe(path.join(root, "env.sqlite"));
  });

  it("a malformed JIT_MASTER_KEY fails at start-up", async () => {
    const root = await fixture({ ...greeterFamily(), ...appJson("demo") });
    await expect(loadFixtureApp({ root, logger: silentLogger, env: { JIT_MASTER_KEY: "not-a-key" } })).rejects.toMatchObject({ code: "MASTER_KEY_INVALID" });
  });

  it("a Meta module exporting a non-ElementBase class is MODULE_LOAD_FAILED", async () => {
    const root = await fixture({
      ...appJson("demo"),
      "elements/x/Meta/e.json": { title: "x", type: "", backendBundleEntry: "." },
      "elements/x/Meta/index.ts": "export default class Plain {}\n",
      "elements/x/Good/e.json": { title: "g", type: "", backendBundleEntry: "." },
      "elements/x/Good/index.ts": `import { ElementBase } from ${JSON.stringify(ELEMENT_BASE_URL)};\nexport default class Good extends ElementBase {}\n`,
      "elements/x/Broken/e.json": { title: "b", type: "x.Good", backendBundleEntry: "." },
      "elements/x/Broken/index.ts": "export default (P: any) => { throw new Error('boom in factory'); };\n",
      "elements/x/Syntax/e.json": { title: "s", type: "x.Good", backendBundleEntry: "." },
      "elements/x/Syntax/index.ts": "export default (P: any) => class extends P { oops( };\n",
      "elements/x/NoDefault/e.json": { title: "n", type: "x.Good", backendBundleEntry: "./impl.ts" },
      "elements/x/NoDefault/impl.ts": "export const x = 1;\n",
    });
    const err = (await loadFixtureApp({ root, logger: silentLogger, env: {} }).catch((e: unknown) => e)) as { problems: Array<{ code: string; file: string; message: string }> };
    expect(err.problems.map((p) => `${p.code} ${p.file.replace(root, "")}`).sort()).toEqual([
      "MODULE_LOAD_FAILED /elements/x/Broken/index.ts",
      "MODULE_LOAD_FAILED /elements/x/Meta/index.ts",
      "MODULE_LOAD_FAILED /elements/x/NoDefault/impl.ts",
      "MODULE_LOAD_FAILED /elements/x/Syntax/index.ts",
    ]);
    expect(err.problems.find((p) => p.file.endsWith("Broken/index.ts"))!.message).toContain("boom in factory");
    // A module without a default export is told what to export.
    expect(err.problems.find((p) => p.file.endsWith("NoDefault/impl.ts"))!.message).toMatch(
      /the module has no default export; it must default-export a function \(Parent\) => class extends Parent/,
    );
  });

  it("an instance carrying code or a functionList used as a type: INSTANCE_AS_TYPE says to declare isType", async () => {
    const root = await fixture({
      ...greeterFamily(),
      ...appJson("demo"),
      // Meant as a Type extending demo.GreeterType, but without "isType": true it is an instance.
      "apps/demo/elements/demo/LoudType/e.json": { title: "Loud", type: "demo.GreeterType", backendBundleEntry: "." },
      "apps/demo/elements/demo/LoudType/index.ts": "export default (P: any) => class extends P {};\n",
      "apps/demo/elements/demo/FnType/e.json": { title: "Fn", type: "demo.GreeterType", functionList: [{ name: "x", args: [] }] },
      "apps/demo/elements/demo/loud/e.json": { title: "loud", type: "demo.LoudType" },
      "apps/demo/elements/demo/fn/e.json": { title: "fn", type: "demo.FnType" },
      "apps/demo/elements/demo/plain/e.json": { title: "plain", type: "demo.hello" },
    });
    const err = (await loadFixtureApp({ root, logger: silentLogger, env: {} }).catch((e: unknown) => e)) as { problems: Array<{ code: string; file: string; message: string }> };
    const message = (name: string) => err.problems.find((p) => p.code === "INSTANCE_AS_TYPE" && p.file.endsWith(`demo/${name}/e.json`))!.message;
    expect(message("loud")).toContain('demo.LoudType carries code: a Type that extends a Type must declare "isType": true in its e.json');
    expect(message("fn")).toContain('demo.FnType carries a functionList: a Type that extends a Type must declare "isType": true');
    // A plain instance (config only) gets no such hint.
    expect(message("plain")).not.toContain("isType");
  });
});
