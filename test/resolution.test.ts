import { afterEach, describe, expect, it } from "vitest";
import path from "node:path";
import { Writable } from "node:stream";
import { createLogger, silentLogger } from "../runtime/logging/logger.ts";
import { appJson, loadFixtureApp, greeterFamily, makeFixture, type Tree } from "./helpers/appFixture.ts";

const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  await Promise.all(cleanups.splice(0).map((c) => c()));
});

async function load(tree: Tree, appId?: string) {
  const fx = await makeFixture(tree);
  cleanups.push(fx.cleanup);
  return loadFixtureApp({ root: fx.root, logger: silentLogger, env: {}, ...(appId ? { appId } : {}) });
}

async function loadError(tree: Tree, appId?: string): Promise<{ code: string; message: string; problems: Array<{ code: string; file?: string; pointer?: string; message: string }> }> {
  const err = await load(tree, appId).then(
    () => undefined,
    (e: unknown) => e,
  );
  expect(err, "loadApp should have failed").toBeDefined();
  return err as never;
}

const el = (name: string, body: Record<string, unknown>, layer = "elements") => ({
  [`${layer}/${name.replace(/\./g, "/")}/e.json`]: body,
});

describe("app overrides of platform elements", () => {
  it("an app Type with code overrides the platform Type; Parent is the overridden class", async () => {
    const app = await load({
      ...greeterFamily(),
      ...appJson("shop"),
      ...el("demo.GreeterType", { title: "Shop greeter", type: "demo.Meta", backendBundleEntry: ".", defaults: { greeting: "bonjour" } }, "apps/shop/elements"),
      "apps/shop/elements/demo/GreeterType/index.ts": `export default (Parent: any) => class ShopGreeter extends Parent {
  greet(who: string): string { return super.greet(who) + "!"; }
  layers(): string[] { return ["shop-type", ...super.layers()]; }
};
`,
    });
    const hello = app.getElement<{ greet(w: string): string; layers(): string[] }>("demo.hello");
    // The platform instance uses the app's override of its Type (like Odoo's _inherit).
    expect(hello.greet("ann")).toBe("bonjour ann!");
    expect(hello.layers()).toEqual(["shop-type", "platform-type"]);
    const define = app.getElementDefine("demo.GreeterType");
    expect(define.layer).toBe("shop");
    expect(define.shadows.map((s) => s.layer)).toEqual(["platform"]);
    expect(app.getElementDefine("demo.hello").chain.map((c) => `${c.fullName}@${c.layer}`)).toEqual([
      "demo.hello@platform",
      "demo.GreeterType@shop",
      "demo.GreeterType@platform",
      "demo.Meta@platform",
    ]);
  });

  it("a config-only override (no module) keeps the parent class and changes defaults", async () => {
    const app = await load({
      ...greeterFamily(),
      ...appJson("shop"),
      ...el("demo.GreeterType", { title: "Config only", type: "demo.Meta", defaults: { greeting: "hi", nested: { a: 10 } } }, "apps/shop/elements"),
    });
    const hello = app.getElement<{ greet(w: string): string; config: Record<string, unknown> }>("demo.hello");
    expect(hello.greet("bo")).toBe("hi bo");
    // defaults merge lowest first: platform Type, then the app override, then instance files.
    expect(hello.config.nested).toEqual({ a: 10, b: 3 });
    expect(hello.config.list).toEqual([1, 2]);
    expect(app.getElement("demo.GreeterType")).toBe(Object.getPrototypeOf(hello).constructor);
  });

  it("an app may override a platform instance's config without code", async () => {
    const app = await load({
      ...greeterFamily(),
      ...appJson("shop"),
      ...el("demo.hello", { title: "Shop hello", type: "demo.GreeterType", frontBundleEntry: "./shop.json" }, "apps/shop/elements"),
      "apps/shop/elements/demo/hello/shop.json": { greeting: "hey" },
    });
    const hello = app.getElement<{ greet(w: string): string; config: Record<string, unknown> }>("demo.hello");
    expect(hello.greet("x")).toBe("hey x");
    expect((hello.config.auth as Record<string, unknown>).appId).toBe("wx-hello");
    expect(app.getElementDefine("demo.hello").shadows).toHaveLength(1);
  });
});

describe("Type inheritance", () => {
  it("a custom Type extends a WeChatMiniType-like parent two levels deep", async () => {
    const app = await load({
      ...appJson("demo"),
      ...el("auths.loginTypes.Meta", { title: "Login Meta", type: "", backendBundleEntry: "." }),
      "elements/auths/loginTypes/Meta/index.ts": `import { ElementBase } from ${JSON.stringify(new URL("../runtime/element/ElementBase.ts", import.meta.url).href)};
export default class LoginMeta extends ElementBase { kindOfLogin() { return "base"; } }
`,
      "elements/auths/loginTypes/Meta/e.schema.json": { type: "object", properties: { allowRegister: { enum: [0, 1], default: 0 } } },
      ...el("auths.loginTypes.MiniType", {
        title: "Mini",
        type: "auths.loginTypes.Meta",
        backendBundleEntry: ".",
        functionList: [{ name: "getLoginCode", args: [{ name: "code", dataType: "Stext" }], loginRequired: 0 }],
      }),
      "elements/auths/loginTypes/MiniType/index.ts": `export default (P: any) => class Mini extends P { kindOfLogin() { return "mini<" + super.kindOfLogin() + ">"; } getLoginCode() { return "mini"; } };\n`,
      ...el(
        "auths.loginTypes.CorpMiniType",
        {
          title: "Corp mini",
          type: "auths.loginTypes.MiniType",
          isType: true,
          backendBundleEntry: ".",
          functionList: [{ name: "getLoginCode", title: "Corp login", args: [{ name: "code", dataType: "Stext" }] }, { name: "corp", args: [] }],
        },
        "apps/demo/elements",
      ),
      "apps/demo/elements/auths/loginTypes/CorpMiniType/index.ts": `export default (P: any) => class CorpMini extends P { kindOfLogin() { return "corp<" + super.kindOfLogin() + ">"; } };\n`,
      ...el("auths.loginTypes.myCorpLogin", { title: "My corp login", type: "auths.loginTypes.CorpMiniType", allowRegister: 1 }, "apps/demo/elements"),
    });
    const define = app.getElementDefine("auths.loginTypes.myCorpLogin");
    expect(define.kind).toBe("instance");
    expect(app.getElementDefine("auths.loginTypes.CorpMiniType").kind).toBe("type");
    expect(define.chain.map((c) => c.fullName)).toEqual([
      "auths.loginTypes.myCorpLogin",
      "auths.loginTypes.CorpMiniType",
      "auths.loginTypes.MiniType",
      "auths.loginTypes.Meta",
    ]);
    // functionList merged by name along the chain, nearest wins.
    expect(define.functionList.map((f) => `${f.name}:${f.title ?? ""}:${f.loginRequired}`)).toEqual(["getLoginCode:Corp login:1", "corp::1"]);
    const element = app.getElement<{ kindOfLogin(): string; getLoginCode(): string; config: Record<string, unknown> }>(define.fullName);
    expect(element.kindOfLogin()).toBe("corp<mini<base>>");
    expect(element.getLoginCode()).toBe("mini");
    expect(element.config.allowRegister).toBe(1);
    expect(app.findElements({ type: "auths.loginTypes.MiniType" }).map((d) => d.fullName)).toEqual(["auths.loginTypes.myCorpLogin"]);
    expect(app.findElements({ type: "auths.loginTypes.Meta" }).map((d) => d.fullName)).toEqual(["auths.loginTypes.myCorpLogin"]);
  });
});

describe("multi-parent extends (C3)", () => {
  // Diamond: app -> [left, right]; left -> [base]; right -> [base]. MRO: app, left, right, base.
  const diamond = (): Tree => ({
    ...greeterFamily(),
    ...appJson("app", ["left", "right"]),
    ...appJson("left", ["base"]),
    ...appJson("right", ["base"]),
    ...appJson("base"),
    ...el("demo.a", { title: "a from base", type: "demo.GreeterType", greeting: "base" }, "apps/base/elements"),
    ...el("demo.a", { title: "a from right", type: "demo.GreeterType", greeting: "right" }, "apps/right/elements"),
    ...el("demo.b", { title: "b from base", type: "demo.GreeterType", greeting: "base" }, "apps/base/elements"),
    ...el("demo.b", { title: "b from left", type: "demo.GreeterType", greeting: "left" }, "apps/left/elements"),
    ...el("demo.b", { title: "b from right", type: "demo.GreeterType", greeting: "right" }, "apps/right/elements"),
  });

  it("warns when two apps that do not extend each other define one element: the one that loses is named", async () => {
    const tree = diamond();
    tree["elements/demo/GreeterType/e.json"] = { ...(tree["elements/demo/GreeterType/e.json"] as object), defaults: { greeting: "hello", auth: { appId: "x", appSecret: "y" } } };
    // The child settles demo.a itself: no warning for it, although right and base define it too.
    Object.assign(tree, el("demo.a", { title: "a from app", type: "demo.GreeterType" }, "apps/app/elements"));
    const fx = await makeFixture(tree);
    cleanups.push(fx.cleanup);
    let logged = "";
    const destination = new Writable({
      write(chunk: Buffer, _encoding, done) {
        logged += chunk.toString();
        done();
      },
    });
    const app = await loadFixtureApp({ root: fx.root, appId: "app", env: {}, logger: createLogger({ level: "warn", destination }) });
    await app.close();
    const warnings = logged.trim().split("\n").map((line) => JSON.parse(line) as { fullName: string; apps: string[]; msg: string });
    // left and right both define demo.b; base's definition is overridden by left, which extends it.
    expect(warnings.map((w) => [w.fullName, w.apps])).toEqual([["demo.b", ["left", "right"]]]);
    const left = path.join(fx.root, "apps/left/elements/demo/b/e.json");
    const right = path.join(fx.root, "apps/right/elements/demo/b/e.json");
    expect(warnings[0]!.msg).toBe(
      `warning: demo.b is overridden by two apps, neither extending the other: ${left} (app left) wins, being first in extends order; ${right} (app right) is hidden`,
    );
    expect(app.warnings).toEqual([warnings[0]!.msg]);
  });

  it("orders layers like Python's MRO and the first layer wins", async () => {
    const tree = diamond();
    // demo.a/demo.b use the GreeterType's required auth config: give it in defaults.
    tree["apps/base/app.json"] = { appId: "base", title: "base", version: "1" };
    tree["elements/demo/GreeterType/e.json"] = { ...(tree["elements/demo/GreeterType/e.json"] as object), defaults: { greeting: "hello", auth: { appId: "x", appSecret: "y" } } };
    const app = await load(tree, "app");
    expect(app.layers).toEqual(["app", "left", "right", "base", "platform"]);
    expect(app.getElementDefine("demo.a").layer).toBe("right");
    expect(app.getElementDefine("demo.b").layer).toBe("left");
    expect(app.getElementDefine("demo.b").shadows.map((s) => s.layer)).toEqual(["right", "base"]);
  });

  it("rejects an inconsistent extends order", async () => {
    const err = await loadError({ ...appJson("x"), ...appJson("y", ["x"]), ...appJson("app", ["x", "y"]) }, "app");
    expect(err.code).toBe("APP_EXTENDS_INCONSISTENT");
    expect(err.message).toContain("app");
  });

  it("rejects cyclic extends", async () => {
    const err = await loadError({ ...appJson("a", ["b"]), ...appJson("b", ["c"]), ...appJson("c", ["a"]) }, "a");
    expect(err.code).toBe("APP_EXTENDS_CYCLE");
    expect(err.message).toContain("a -> b -> c -> a");
  });

  it("an unknown parent app is APP_NOT_FOUND; several apps without appId is APP_AMBIGUOUS", async () => {
    expect((await loadError({ ...appJson("a", ["nope"]) }, "a")).code).toBe("APP_NOT_FOUND");
    expect((await loadError({ ...appJson("a"), ...appJson("b") })).code).toBe("APP_AMBIGUOUS");
    expect((await loadError({ ...appJson("a") }, "zzz")).code).toBe("APP_NOT_FOUND");
    expect((await loadError({ "elements/x/e.json": { title: "x", type: "" } })).code).toBe("APPS_FOLDER_MISSING");
  });
});

describe("accessModifier", () => {
  it("private elements are invisible to inheriting apps but usable inside their own layer", async () => {
    const app = await load({
      ...greeterFamily(),
      ...appJson("child", ["parent"]),
      ...appJson("parent"),
      ...el("demo.secretType", { title: "private Type", type: "demo.Meta", accessModifier: "private" }, "apps/parent/elements"),
      ...el("demo.usesIt", { title: "uses private", type: "demo.secretType" }, "apps/parent/elements"),
    }, "child");
    expect(() => app.getElement("demo.secretType")).toThrow(expect.objectContaining({ code: "ELEMENT_NOT_FOUND" }));
    expect(app.getElementDefine("demo.usesIt").chain.map((c) => c.fullName)).toEqual(["demo.usesIt", "demo.secretType", "demo.Meta"]);
  });

  it("a child app cannot name a parent's private element as its type", async () => {
    const err = await loadError({
      ...greeterFamily(),
      ...appJson("child", ["parent"]),
      ...appJson("parent"),
      ...el("demo.secretType", { title: "private Type", type: "demo.Meta", accessModifier: "private" }, "apps/parent/elements"),
      ...el("demo.mine", { title: "mine", type: "demo.secretType" }, "apps/child/elements"),
    }, "child");
    expect(err.problems.map((p) => p.code)).toEqual(["TYPE_NOT_FOUND"]);
  });

  it("redefining a private element is a new element, not an override", async () => {
    const app = await load({
      ...greeterFamily(),
      ...appJson("shop"),
      ...el("demo.Hidden", { title: "private", type: "", accessModifier: "private" }),
      ...el("demo.Hidden", { title: "mine", type: "" }, "apps/shop/elements"),
    });
    expect(app.getElementDefine("demo.Hidden").shadows).toEqual([]);
  });

  it("protected elements are usable but overriding one is OVERRIDE_PROTECTED", async () => {
    const tree: Tree = {
      ...greeterFamily(),
      ...appJson("shop"),
      ...el("demo.Locked", { title: "locked", type: "demo.Meta", accessModifier: "protected" }),
      ...el("demo.useLocked", { title: "user", type: "demo.Locked" }, "apps/shop/elements"),
    };
    const app = await load(tree);
    expect(app.getElementDefine("demo.useLocked").kind).toBe("instance");
    const err = await loadError({ ...tree, ...el("demo.Locked", { title: "mine", type: "demo.Meta" }, "apps/shop/elements") });
    expect(err.problems).toHaveLength(1);
    expect(err.problems[0]).toMatchObject({ code: "OVERRIDE_PROTECTED" });
    expect(err.problems[0]!.file).toContain("apps/shop/elements/demo/Locked/e.json");
    expect(err.problems[0]!.message).toContain("elements/demo/Locked/e.json");
  });
});

describe("walking declarations", () => {
  it("fullName is the folder path below elements/; elements nest; dot folders are skipped", async () => {
    const app = await load({
      ...appJson("demo"),
      "elements/a/Meta/e.json": { title: "Meta", type: "" },
      "elements/a/Meta/Sub/e.json": { title: "nested Meta", type: "" },
      "elements/a/Meta/Sub/deeper/T/e.json": { title: "deep Type", type: "a.Meta.Sub" },
      "elements/a/.hidden/X/e.json": { title: "hidden", type: "" },
      "elements/a/node_modules/Y/e.json": { title: "dep", type: "" },
      "apps/demo/elements/mine/inst/e.json": { title: "instance", type: "a.Meta.Sub.deeper.T" },
    });
    expect(app.listElements().map((d) => `${d.fullName}:${d.kind}:${d.layer}`)).toEqual([
      "a.Meta:meta:platform",
      "a.Meta.Sub:meta:platform",
      "a.Meta.Sub.deeper.T:type:platform",
      "mine.inst:instance:demo",
    ]);
  });
});
