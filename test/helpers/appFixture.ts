import { mkdir, mkdtemp, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { loadApp, type App, type LoadAppOptions } from "../../runtime/index.ts";

/** Files to write: relative path → JSON value (written indented) or raw text. */
export type Tree = Record<string, unknown>;

/**
 * Writes real files under `root`; strings are written as-is, anything else as JSON. One after
 * another, in the tree's order, so a watcher (jit dev) sees them in that order.
 */
export async function writeTree(root: string, tree: Tree): Promise<void> {
  for (const [rel, content] of Object.entries(tree)) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof content === "string" ? content : `${JSON.stringify(content, null, 2)}\n`);
  }
}

/**
 * A fresh temp folder; `cleanup()` removes it. It gets a package.json with
 * `"type": "module"` as a real project root has: without it, `.ts` element code under
 * /tmp would load as CommonJS.
 */
export async function makeTempRoot(prefix = "jit-test-"): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const root = await mkdtemp(path.join(os.tmpdir(), prefix));
  await writeFile(path.join(root, "package.json"), `${JSON.stringify({ type: "module", private: true })}\n`);
  return { root, cleanup: () => rm(root, { recursive: true, force: true }) };
}

/** A temp root holding `tree`. */
export async function makeFixture(tree: Tree, prefix?: string): Promise<{ root: string; cleanup: () => Promise<void> }> {
  const tmp = await makeTempRoot(prefix);
  await writeTree(tmp.root, tree);
  return tmp;
}

/** An `apps/<appId>/app.json` entry. */
export function appJson(appId: string, extendsIds: string[] = [], title = appId): Tree {
  return { [`apps/${appId}/app.json`]: { appId, title, version: "1.0.0", extends: extendsIds } };
}

/** Absolute path of the runtime's ElementBase, for fixture code written into temp dirs. */
export const ELEMENT_BASE_URL = new URL("../../runtime/element/ElementBase.ts", import.meta.url).href;

/**
 * A small family used by many tests: a Meta `demo.Meta` with code and an e.schema.json,
 * a Type `demo.GreeterType` with code, defaults and a config.schema.json, and an
 * instance `demo.hello` with a business config file, all in the platform layer.
 */
export function greeterFamily(): Tree {
  return {
    "elements/demo/Meta/e.json": { title: "Demo Meta", type: "", backendBundleEntry: "." },
    "elements/demo/Meta/index.ts": `import { ElementBase } from ${JSON.stringify(ELEMENT_BASE_URL)};
export default class DemoMeta extends ElementBase {
  whoAmI(): string { return "meta:" + this.fullName; }
}
`,
    "elements/demo/Meta/e.schema.json": {
      type: "object",
      properties: { allowRegister: { enum: [0, 1], default: 0 } },
    },
    "elements/demo/GreeterType/e.json": {
      title: "Greeter",
      type: "demo.Meta",
      backendBundleEntry: ".",
      defaults: { greeting: "hello", nested: { a: 1, b: 2 }, list: [1, 2] },
      functionList: [{ name: "greet", title: "Greet", args: [{ name: "who", dataType: "Stext" }], loginRequired: 0 }],
    },
    "elements/demo/GreeterType/index.ts": `export default (Parent: any) => class Greeter extends Parent {
  greet(who: string): string { return this.config.greeting + " " + who; }
  layers(): string[] { return ["platform-type"]; }
};
`,
    "elements/demo/GreeterType/config.schema.json": {
      type: "object",
      required: ["greeting", "auth"],
      properties: {
        greeting: { type: "string" },
        auth: {
          type: "object",
          required: ["appId", "appSecret"],
          properties: { appId: { type: "string" }, appSecret: { type: "string", secret: true }, pin: { type: "string", secret: true } },
        },
      },
    },
    "elements/demo/hello/e.json": {
      title: "Hello",
      type: "demo.GreeterType",
      backendBundleEntry: ".",
      frontBundleEntry: "./hello.json",
    },
    "elements/demo/hello/hello.json": { auth: { appId: "wx-hello", appSecret: "s3cr3t-value", pin: "1234" }, nested: { b: 3 } },
  };
}

/**
 * Loads an app of a fixture root whose own `elements/` is the whole platform layer, so a test
 * family (greeterFamily) is seen alone, without the package's platform elements.
 */
export function loadFixtureApp(options: LoadAppOptions): Promise<App> {
  return loadApp({ platformRoots: [path.join(options.root, "elements")], ...options });
}
