import { execFile } from "node:child_process";
import { randomBytes } from "node:crypto";
import { mkdir, mkdtemp, readdir, readFile, rm, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { promisify } from "node:util";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post } from "./helpers/http.ts";
import { installPacked, packOnce } from "./helpers/packedPackage.ts";
import { startChild, type Child } from "./helpers/httpChild.ts";
import { REPO_ROOT } from "./helpers/loginFixture.ts";
import { ORDER_MODEL } from "./models/fixture.ts";

/*
 * The package as an app developer gets it: `npm pack` of this repository (which builds dist/
 * on prepare), the tarball installed into a folder made by `npm init -y` outside the repository, and only
 * that folder's node_modules from then on: `jit init`, validate, a Type override and a Type
 * extending it (type-checked with tsc against the shipped .d.ts, run through `jit serve`),
 * the bundled fake WeChat server (`jit wechat-fake`, from the package's testing entry), and
 * the login flow over HTTP.
 */

const run = promisify(execFile);
const SECRET = `shop-secret-${randomBytes(6).toString("hex")}`;
const VIP_APP_ID = "wx0000000000vip001";
const MASTER_KEY = randomBytes(32).toString("base64");

let work: string; // holds the project
let project: string; // the app developer's folder
let jitBin: string;
let files: string[]; // the tarball's file list
const children: Child[] = [];

function jit(args: string[], env: Record<string, string> = {}) {
  return run(jitBin, args, { cwd: project, env: { ...process.env, JIT_LOG_LEVEL: "warn", WECHAT_APP_SECRET: SECRET, ...env }, timeout: 60_000 }).then(
    ({ stdout, stderr }) => ({ code: 0, stdout, stderr }),
    (err: { code?: number; stdout?: string; stderr?: string }) => ({ code: typeof err.code === "number" ? err.code : 1, stdout: err.stdout ?? "", stderr: err.stderr ?? "" }),
  );
}

beforeAll(async () => {
  work = await mkdtemp(path.join(os.tmpdir(), "jit-pack-"));
  project = path.join(work, "shop");
  await mkdir(project);
  // As a user starts: `npm init -y`, which makes a CommonJS folder ("type": "commonjs").
  await run("npm", ["init", "-y"], { cwd: project, timeout: 60_000 });
  const packed = await packOnce();
  files = packed.files;
  await installPacked(project, packed.tarball);
  jitBin = path.join(project, "node_modules", ".bin", "jit");
}, 600_000);

afterAll(async () => {
  for (const child of children) child.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await rm(work, { recursive: true, force: true });
});

// Acme-style override by fullName (.ts in a CommonJS folder), and a Type extending the
// WeChat Type with isType (.mts), both typed through the package's entry points; the
// override reads its caller through the public entry of element code, jit-runtime/element.
const OVERRIDE = `import { currentCallContext } from "jit-runtime/element";
import type { GetLoginCodeResult, WeChatMiniClass } from "jit-runtime/login";

export default (Parent: WeChatMiniClass) =>
  class ShopWeChatMiniType extends Parent {
    override async getLoginCode(code: string): Promise<GetLoginCodeResult> {
      const result = await super.getLoginCode(code);
      return result;
    }
    async describeLogin(): Promise<string> {
      return "shop override of " + this.appId + " via " + (currentCallContext()?.via ?? "a script");
    }
  };
`;
const VIP_TYPE = `import type { WeChatMiniClass } from "jit-runtime/login";

type ShopClass = WeChatMiniClass & (new (...args: any[]) => { describeLogin(): Promise<string> });

export default (Parent: ShopClass) =>
  class VipMiniType extends Parent {
    async vipGreeting(): Promise<string> {
      return "vip, " + (await this.describeLogin());
    }
  };
`;
const TSCONFIG = {
  compilerOptions: { target: "ES2022", module: "NodeNext", moduleResolution: "NodeNext", strict: true, noImplicitOverride: true, noEmit: true, skipLibCheck: true, types: [] },
  include: ["apps", "scripts"],
};
// A user's script through the main entry: typed (scripts/check.ts) and run (scripts/greet.mjs).
const SCRIPT_TS = `import { isJitError, loadApp } from "jit-runtime";
import type { WeChatMiniLogin } from "jit-runtime/login";

export async function describe(): Promise<string> {
  const app = await loadApp({ root: ".", appId: "shop" });
  try {
    return app.getElement<WeChatMiniLogin>("auths.loginTypes.shopLogin").getLoginConfig().authType;
  } catch (err) {
    return isJitError(err) ? err.code : "unexpected";
  } finally {
    await app.close();
  }
}
`;
const SCRIPT_MJS = `import { loadApp } from "jit-runtime";
const app = await loadApp({ root: ".", appId: "shop" });
console.log(JSON.stringify({ greeting: await app.getElement("auths.loginTypes.vipLogin").vipGreeting(), layers: app.layers }));
await app.close();
`;

// The shop: its OrderModel (the models suite's), and a service whose functions know the caller.
const SHOP_SERVICE = {
  type: "services.NormalType",
  title: "Orders",
  backendBundleEntry: ".",
  errorCodes: { ORDER_EMPTY: { status: 422, message: "an order needs at least one item" } },
  functionList: [
    { name: "placeOrder", args: [{ name: "item", dataType: "Stext" }, { name: "qty", dataType: "Numeric" }] },
    { name: "myOrders", args: [] },
  ],
};
const SHOP_SERVICE_CODE = `import { currentUser, ServiceError, type ElementClass } from "jit-runtime";

export default (Parent: ElementClass) =>
  class extends Parent {
    async placeOrder(item: string, qty: number) {
      if (qty < 1) throw new ServiceError("ORDER_EMPTY", { status: 422, message: "an order needs at least one item" });
      return this.app.getElement("models.OrderModel").create({ userId: currentUser()!.userId, item, qty, createdAt: Date.now() });
    }
    async myOrders() {
      return this.app.getElement("models.OrderModel").query({ filter: { userId: currentUser()!.userId }, orderList: [["id", 1]] });
    }
  };
`;
const SHOP_SCRIPT = `import { loadApp } from "jit-runtime";

export async function firstOrder(): Promise<string | null> {
  const app = await loadApp({ root: ".", appId: "shop" });
  const orders = app.getElement("models.OrderModel");
  const row = await orders.create({ userId: 1, item: "tea" });
  await app.close();
  return row.note;
}
`;

async function writeJson(rel: string, value: unknown): Promise<void> {
  await mkdir(path.dirname(path.join(project, rel)), { recursive: true });
  await writeFile(path.join(project, rel), `${JSON.stringify(value, null, 2)}\n`);
}

async function allFiles(dir: string): Promise<string[]> {
  const entries = await readdir(dir, { withFileTypes: true, recursive: true });
  return entries.filter((e) => e.isFile()).map((e) => path.join(e.parentPath, e.name));
}

describe("the packed package in an app developer's own folder", () => {
  it("ships compiled JavaScript, .d.ts, the platform elements and the bin, and nothing dev-only", async () => {
    expect(files).toContain("dist/cli/jit.js");
    expect(files).toContain("dist/runtime/index.d.ts");
    expect(files).toContain("dist/testing/index.js");
    expect(files).toContain("dist/elements/auths/loginTypes/WeChatMiniType/e.json");
    expect(files).toContain("dist/elements/auths/loginTypes/WeChatMiniType/config.schema.json");
    expect(files).toContain("dist/elements/auths/loginTypes/WeChatMiniType/index.js");
    // The password Type reads its common-password list at run time: the build must ship it.
    expect(files).toContain("dist/elements/auths/loginTypes/PasswordType/commonPasswords.txt");
    expect(files).toContain("dist/elements/auths/loginTypes/PasswordType/index.js");
    const devOnly = files.filter((f) => /^(test|bench|apps|scripts|runtime|elements|cli|testing)\//.test(f) || (/\.ts$/.test(f) && !f.endsWith(".d.ts")));
    expect(devOnly).toEqual([]);
    // Nothing in the installed package points back into this repository.
    const installed = path.join(project, "node_modules", "jit-runtime");
    const texts = await Promise.all((await allFiles(installed)).map((f) => readFile(f, "utf8")));
    expect(texts.filter((t) => t.includes(REPO_ROOT))).toEqual([]);
  });

  it("jit init scaffolds an app, refuses to overwrite, and the app validates against the package's platform", async () => {
    const init = await jit(["init", "shop"]);
    expect(init.code).toBe(0);
    expect(init.stdout).toContain("created apps/shop/app.json");
    expect(init.stdout).toContain("wechat-fake");
    const business = JSON.parse(await readFile(path.join(project, "apps/shop/elements/auths/loginTypes/shopLogin/shopLogin.json"), "utf8"));
    expect(business.authConfig.appSecret).toBe("${WECHAT_APP_SECRET}");
    expect(await readFile(path.join(project, ".gitignore"), "utf8")).toContain(".jit/");

    const again = await jit(["init", "shop"]);
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("INIT_FILE_EXISTS");
    expect(again.stderr).toContain(path.join(project, "apps/shop/app.json"));

    const validate = await jit(["--app", "shop", "validate"]);
    expect(validate).toMatchObject({ code: 0, stderr: "" });
    expect(validate.stdout).toContain("layers shop > platform");
  });

  it("an override by fullName and a Type extending it type-check with tsc against the shipped types", async () => {
    await writeJson("apps/shop/elements/auths/loginTypes/WeChatMiniType/e.json", {
      title: "Shop WeChat login",
      type: "auths.loginTypes.Meta",
      backendBundleEntry: ".",
      functionList: [{ name: "describeLogin", args: [], loginRequired: 0 }],
    });
    await writeFile(path.join(project, "apps/shop/elements/auths/loginTypes/WeChatMiniType/index.ts"), OVERRIDE);
    await writeJson("apps/shop/elements/auths/loginTypes/VipMiniType/e.json", {
      title: "VIP WeChat login",
      type: "auths.loginTypes.WeChatMiniType",
      isType: true,
      backendBundleEntry: ".",
      functionList: [{ name: "vipGreeting", args: [], loginRequired: 0 }],
    });
    await writeFile(path.join(project, "apps/shop/elements/auths/loginTypes/VipMiniType/index.mts"), VIP_TYPE);
    await writeJson("apps/shop/elements/auths/loginTypes/vipLogin/e.json", {
      title: "VIP login",
      type: "auths.loginTypes.VipMiniType",
      allowRegister: 1,
      backendBundleEntry: ".",
      frontBundleEntry: "./vipLogin.json",
    });
    await writeJson("apps/shop/elements/auths/loginTypes/vipLogin/vipLogin.json", { authConfig: { appId: VIP_APP_ID, appSecret: "${WECHAT_APP_SECRET}" } });
    await writeJson("tsconfig.json", TSCONFIG);
    await mkdir(path.join(project, "scripts"), { recursive: true });
    await writeFile(path.join(project, "scripts/check.ts"), SCRIPT_TS);
    await writeFile(path.join(project, "scripts/greet.mjs"), SCRIPT_MJS);

    // The user's own tsc run (this repository's copy of TypeScript, on the user's folder): its
    // errors, or "" when the folder type-checks.
    const typeCheck = () =>
      run(process.execPath, [path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", project], { cwd: project, timeout: 120_000 }).then(
        () => "",
        (err: { stdout?: string }) => err.stdout ?? "tsc failed",
      );
    expect(await typeCheck()).toBe("");
    // The types are real, not `any`: a wrong return type in an override is an error.
    await writeFile(path.join(project, "apps/shop/wrong.ts"), `import type { WeChatMiniClass } from "jit-runtime/login";\nexport default (P: WeChatMiniClass) => class extends P { override async getLoginCode(_code: string) { return 42; } };\n`);
    const wrong = await typeCheck();
    await rm(path.join(project, "apps/shop/wrong.ts"));
    expect(wrong).toMatch(/wrong\.ts.*error TS2416/);

    const show = await jit(["--app", "shop", "show", "auths.loginTypes.vipLogin", "--json"]);
    expect(show.stderr).toBe("");
    expect(JSON.parse(show.stdout).chain.map((c: { fullName: string; layer: string }) => `${c.fullName}@${c.layer}`)).toEqual([
      "auths.loginTypes.vipLogin@shop",
      "auths.loginTypes.VipMiniType@shop",
      "auths.loginTypes.WeChatMiniType@shop",
      "auths.loginTypes.WeChatMiniType@platform",
      "auths.loginTypes.Meta@platform",
    ]);
  });

  it("jit serve against the bundled fake WeChat: getLoginCode → register → getLoginCode → loginByCode, and the override at run time", async () => {
    const env = { JIT_LOG_LEVEL: "warn", WECHAT_APP_SECRET: SECRET, JIT_MASTER_KEY: MASTER_KEY };
    const fake = startChild([jitBin, "--app", "shop", "wechat-fake", "--port", "0"], env, project);
    children.push(fake);
    const [, fakeUrl] = await fake.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
    expect(fake.stdout()).toContain(VIP_APP_ID);
    expect(fake.stdout()).not.toContain(SECRET);

    const server = startChild([jitBin, "--app", "shop", "serve", "--port", "0", "--host", "127.0.0.1"], { ...env, WECHAT_API_BASE: fakeUrl! }, project);
    children.push(server);
    const [, base] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);

    const shopAppId = JSON.parse(await readFile(path.join(project, "apps/shop/elements/auths/loginTypes/shopLogin/shopLogin.json"), "utf8")).authConfig.appId as string;
    const mint = async (openId: string) => (await post(fakeUrl!, "/__fake/codes", { appId: shopAppId, openId })).body.code as string;
    const login = "/api/shop/auths/loginTypes/shopLogin";

    const first = await post(base!, `${login}/getLoginCode`, { code: await mint("user-1") });
    expect(first.status).toBe(200);
    expect(first.body.data.bindCode).toEqual(expect.any(String));
    const registered = await post(base!, `${login}/register`, { bindCode: first.body.data.bindCode });
    expect(registered.status).toBe(200);
    const userId = registered.body.data.userId as number;
    const second = await post(base!, `${login}/getLoginCode`, { code: await mint("user-1") });
    expect(second.body.data).toMatchObject({ loginCode: expect.any(String), userId });
    const session = await post(base!, "/api/shop/auths/loginTypes/services/AuthSvc/loginByCode", { loginCode: second.body.data.loginCode });
    expect(session.status).toBe(200);
    expect(session.body.data).toMatchObject({ token: expect.any(String), userId });
    const me = await post(base!, "/api/shop/auths/loginTypes/services/AuthSvc/getCurrentUser", undefined, { token: session.body.data.token });
    expect(me.body.data.userId).toBe(userId);

    // The override (app layer) and the Type extending it, in their .ts and .mts modules.
    const described = await post(base!, `${login}/describeLogin`, {});
    expect(described.body).toEqual({ data: `shop override of ${shopAppId} via http` });
    const vip = await post(base!, "/api/shop/auths/loginTypes/vipLogin/vipGreeting", {});
    expect(vip.body).toEqual({ data: `vip, shop override of ${VIP_APP_ID} via http` });

    // From the user's own script, through the package's main entry.
    const script = await run(process.execPath, ["scripts/greet.mjs"], { cwd: project, env: { ...process.env, ...env }, timeout: 60_000 });
    expect(JSON.parse(script.stdout)).toEqual({ greeting: `vip, shop override of ${VIP_APP_ID} via a script`, layers: ["shop", "platform"] });

    // The same function from the command line, without a server.
    const called = await jit(["--app", "shop", "call", "auths.loginTypes.vipLogin", "vipGreeting", "--db", path.join(project, ".jit", "cli.sqlite")], env);
    expect(called.code).toBe(0);
    expect(JSON.parse(called.stdout)).toBe(`vip, shop override of ${VIP_APP_ID} via cli`);

    server.kill("SIGTERM");
    expect((await server.exited).code).toBe(0);
    expect(server.stderr() + server.stdout()).not.toContain(SECRET);
  });

  it("jit dev: a saved config changes the next answer without a restart; a broken e.json keeps the old version serving and prints the problem; fixing it resumes", async () => {
    const env = { JIT_LOG_LEVEL: "warn", WECHAT_APP_SECRET: SECRET, JIT_MASTER_KEY: MASTER_KEY, JIT_ADMIN_TOKEN: "package-test-admin-token-0123" };
    const dev = startChild([jitBin, "--app", "shop", "dev", "--port", "0"], { ...env, WECHAT_API_BASE: undefined }, project);
    children.push(dev);
    const [, base] = await dev.waitFor(/app shop listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
    const [, fakeUrl] = await dev.waitFor(/fake WeChat server on (http:\/\/127\.0\.0\.1:\d+)/);
    await dev.waitFor(/watching .* for changes/);
    const login = "/api/shop/auths/loginTypes/shopLogin";
    const configFile = path.join(project, "apps/shop/elements/auths/loginTypes/shopLogin/shopLogin.json");
    const declFile = path.join(project, "apps/shop/elements/auths/loginTypes/shopLogin/e.json");
    const business = JSON.parse(await readFile(configFile, "utf8"));
    const before = business.authConfig.appId as string;
    expect((await post(base!, `${login}/describeLogin`, {})).body).toEqual({ data: `shop override of ${before} via http` });

    // The instance's config: the next answer is the new one, and the dev fake knows the new AppID.
    const renamed = "wx00000000renamed1";
    await writeFile(configFile, JSON.stringify({ ...business, authConfig: { ...business.authConfig, appId: renamed } }, null, 2));
    await dev.waitFor(/app shop reloaded: version 2/, 20_000);
    expect((await post(base!, `${login}/describeLogin`, {})).body).toEqual({ data: `shop override of ${renamed} via http` });
    const code = (await post(fakeUrl!, "/__fake/codes", { appId: renamed, openId: "dev-user" })).body.code as string;
    expect((await post(base!, `${login}/getLoginCode`, { code })).status).toBe(200);

    // A broken e.json: the problem with file and JSON path; version 2 keeps answering.
    const decl = await readFile(declFile, "utf8");
    await writeFile(declFile, decl.replace(/"type": "[^"]+"/, '"type": 42'));
    await dev.waitFor(/app shop NOT reloaded: \d+ problems?; version 2 keeps serving until fixed/, 20_000);
    await dev.waitFor(new RegExp(`SCHEMA_INVALID ${declFile.replace(/[.*+?^${}()|[\]\\]/g, "\\$&")}#/type`));
    expect((await post(base!, `${login}/describeLogin`, {})).body).toEqual({ data: `shop override of ${renamed} via http` });

    await writeFile(declFile, decl);
    await dev.waitFor(/app shop reloaded: version 3 serves from the next request \(\d+ ms\); the problems are fixed/, 20_000);
    expect((await post(base!, `${login}/describeLogin`, {})).body).toEqual({ data: `shop override of ${renamed} via http` });

    // A Type's module (TypeScript, in this CommonJS folder) is imported afresh too.
    const overrideFile = path.join(project, "apps/shop/elements/auths/loginTypes/WeChatMiniType/index.ts");
    await writeFile(overrideFile, OVERRIDE.replace('"shop override of "', '"reloaded override of "'));
    await dev.waitFor(/app shop reloaded: version 4/, 20_000);
    expect((await post(base!, `${login}/describeLogin`, {})).body).toEqual({ data: `reloaded override of ${renamed} via http` });

    await writeFile(overrideFile, OVERRIDE);
    await writeFile(configFile, JSON.stringify(business, null, 2));
    // Both restored (one batch or two reloads): the original answer again.
    for (let i = 0; ; i++) {
      const answer = (await post(base!, `${login}/describeLogin`, {})).body;
      if (answer.data === `shop override of ${before} via http`) break;
      if (i > 200) throw new Error(`not restored: ${JSON.stringify(answer)}\n${dev.stdout()}`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
    dev.kill("SIGTERM");
    expect((await dev.exited).code).toBe(0);
    expect(dev.stdout() + dev.stderr()).not.toContain(SECRET);
  }, 120_000);

  it("the shop: a model and a service knowing the current user, typed by jit types; each user's orders are their own across a restart", { timeout: 300_000 }, async () => {
    await writeJson("apps/shop/elements/models/OrderModel/e.json", ORDER_MODEL);
    await writeJson("apps/shop/elements/services/OrderSvc/e.json", SHOP_SERVICE);
    await writeFile(path.join(project, "apps/shop/elements/services/OrderSvc/index.mts"), SHOP_SERVICE_CODE);
    const types = await jit(["--app", "shop", "types"]);
    expect(types.code, types.stderr).toBe(0);
    await writeJson("tsconfig.json", { ...TSCONFIG, include: [...TSCONFIG.include, "jit-types.d.ts"] });
    await mkdir(path.join(project, "scripts"), { recursive: true });
    await writeFile(path.join(project, "scripts/orders.ts"), SHOP_SCRIPT);
    const tsc = (): Promise<string> =>
      run(process.execPath, [path.join(REPO_ROOT, "node_modules", "typescript", "bin", "tsc"), "-p", project], { cwd: project, timeout: 120_000 }).then(
        () => "",
        (err: { stdout?: string }) => err.stdout ?? "tsc failed",
      );
    expect(await tsc()).toBe("");
    await writeFile(path.join(project, "scripts/orders.ts"), SHOP_SCRIPT.replace('item: "tea"', 'item: "tea", colour: "red"'));
    expect(await tsc()).toMatch(/orders\.ts.*error TS2353.*'colour' does not exist/);
    await rm(path.join(project, "scripts/orders.ts"));

    const env = { JIT_LOG_LEVEL: "warn", WECHAT_APP_SECRET: SECRET, JIT_MASTER_KEY: MASTER_KEY };
    const fake = startChild([jitBin, "--app", "shop", "wechat-fake", "--port", "0"], env, project);
    children.push(fake);
    const [, fakeUrl] = await fake.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
    const serve = async () => {
      const server = startChild([jitBin, "--app", "shop", "serve", "--port", "0", "--workers", "2"], { ...env, WECHAT_API_BASE: fakeUrl! }, project);
      children.push(server);
      const [, base] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000);
      return { server, base: base! };
    };
    let { server, base } = await serve();
    const shopAppId = JSON.parse(await readFile(path.join(project, "apps/shop/elements/auths/loginTypes/shopLogin/shopLogin.json"), "utf8")).authConfig.appId as string;
    const mint = async (openId: string) => (await post(fakeUrl!, "/__fake/codes", { appId: shopAppId, openId })).body.code as string;
    const loginAs = async (openId: string): Promise<string> => {
      const login = "/api/shop/auths/loginTypes/shopLogin";
      const first = await post(base, `${login}/getLoginCode`, { code: await mint(openId) });
      if (first.body.data.bindCode) await post(base, `${login}/register`, { bindCode: first.body.data.bindCode });
      const second = await post(base, `${login}/getLoginCode`, { code: await mint(openId) });
      return (await post(base, "/api/shop/auths/loginTypes/services/AuthSvc/loginByCode", { loginCode: second.body.data.loginCode })).body.data.token as string;
    };
    const svc = "/api/shop/services/OrderSvc";
    const ann = await loginAs("shop-ann");
    const bob = await loginAs("shop-bob");
    expect((await post(base, `${svc}/placeOrder`, { item: "tea", qty: 2 }, { token: ann })).status).toBe(200);
    expect((await post(base, `${svc}/placeOrder`, { item: "cake", qty: 1 }, { token: bob })).status).toBe(200);
    expect((await post(base, `${svc}/placeOrder`, { item: "bun", qty: 3 }, { token: ann })).status).toBe(200);
    const refused = await post(base, `${svc}/placeOrder`, { item: "tea", qty: 0 }, { token: ann });
    expect({ status: refused.status, code: refused.body.error.code }).toEqual({ status: 422, code: "ORDER_EMPTY" });
    const items = async (token: string) => (await post(base, `${svc}/myOrders`, {}, { token })).body.data.rowDatas.map((r: { item: string }) => r.item);
    expect(await items(ann)).toEqual(["tea", "bun"]);
    expect(await items(bob)).toEqual(["cake"]);
    server.kill("SIGTERM");
    expect((await server.exited).code).toBe(0);
    ({ server, base } = await serve());
    expect(await items(ann)).toEqual(["tea", "bun"]);
    expect(await items(bob)).toEqual(["cake"]);
    server.kill("SIGTERM");
    expect((await server.exited).code).toBe(0);
    const plan = await jit(["--app", "shop", "migrate", "--plan"]);
    expect(plan.stdout).toMatch(/every model is up to date/);
  });

  it("ships the console, the API page and the mini-program client, and serves them from the installed package", async () => {
    expect(files).toContain("dist/runtime/http/console/ui/dist/app.js");
    expect(files).toContain("dist/runtime/http/console/ui/dist/index.html");
    expect(files).toContain("dist/runtime/miniprogram/dist/index.js");
    expect(files).toContain("dist/runtime/miniprogram/index.d.ts");
    const pkg = JSON.parse(await readFile(path.join(project, "node_modules", "jit-runtime", "package.json"), "utf8")) as { miniprogram: string };
    expect(files).toContain(`${pkg.miniprogram}/index.js`);

    const client = await run(process.execPath, ["--input-type=module", "-e", `import { createClient, JitApiError } from "jit-runtime/miniprogram"; console.log(typeof createClient, typeof JitApiError);`], { cwd: project, timeout: 30_000 });
    expect(client.stdout.trim()).toBe("function function");

    const env = { JIT_LOG_LEVEL: "warn", WECHAT_APP_SECRET: SECRET, JIT_MASTER_KEY: MASTER_KEY, JIT_ADMIN_TOKEN: "package-test-admin-token-0123" };
    const server = startChild([jitBin, "--app", "shop", "serve", "--port", "0", "--console", "--docs"], env, project);
    children.push(server);
    const [, base] = await server.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000);
    for (const url of ["/console/", "/console/assets/app.js", "/docs/static/index.html", "/openapi.json"]) {
      const res = await fetch(`${base}${url}`);
      await res.arrayBuffer();
      expect(res.status, url).toBe(200);
    }
    const overview = await fetch(`${base}/console/api/overview`, { headers: { authorization: `Bearer ${env.JIT_ADMIN_TOKEN}` } });
    expect(((await overview.json()) as { appId: string }).appId).toBe("shop");
    server.kill("SIGTERM");
    expect((await server.exited).code).toBe(0);
  });
});
