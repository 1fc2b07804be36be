/**
 * `jit dev` as a real child process: a saved business config, e.json or module reloads the
 * app in place. A request in flight finishes on the old version while the next one sees the
 * new; sessions stay (same database); a change that does not load keeps the last good version
 * serving, printed with file and JSON path and shown by the console until it is fixed.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { post, removeDir, TEST_MASTER_KEY } from "./helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";
import { makeTwoAppRoot, MINI } from "./helpers/twoApps.ts";
import { writeTree } from "./helpers/appFixture.ts";

const ADMIN = "dev-test-admin-token-0123456789abcdef";
const GREETER = "apps/shop/elements/shop/greeter";

const greeterFiles = (greeting: string, prefix = "v1") => ({
  [`${GREETER}/e.json`]: {
    title: "Greeter",
    type: "services.NormalType",
    backendBundleEntry: ".",
    frontBundleEntry: "./greeter.json",
    functionList: [
      { name: "hello", title: "Hello", args: [], loginRequired: 0 },
      { name: "slowHello", title: "Hello, after a while", args: [], loginRequired: 0 },
    ],
  },
  [`${GREETER}/greeter.json`]: { greeting },
  [`${GREETER}/prefix.ts`]: `export const prefix = ${JSON.stringify(prefix)};\n`,
  [`${GREETER}/index.ts`]: `import { prefix } from "./prefix.ts";
export default (Parent: any) => class extends Parent {
  hello(): string { return prefix + ": " + String(this.config.greeting); }
  async slowHello(): Promise<string> {
    const answer = this.hello();
    await new Promise((resolve) => setTimeout(resolve, 1500));
    return answer;
  }
};
`,
});

describe("jit dev", () => {
  let root: string;
  let child: Child;
  let base: string;
  let fakeUrl: string;

  beforeAll(async () => {
    root = await makeTwoAppRoot();
    await writeTree(root, greeterFiles("hello"));
    child = startChild([JIT_BIN, "--root", root, "dev", "--port", "0"], {
      JIT_DB: undefined,
      DATABASE_URL: undefined,
      WECHAT_API_BASE: undefined,
      JIT_ADMIN_TOKEN: ADMIN,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "warn",
    });
    fakeUrl = (await child.waitFor(/fake WeChat server on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    base = (await child.waitFor(/apps blog, shop listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    await child.waitFor(/watching .* for changes/);
  }, 90_000);
  afterAll(async () => {
    child?.kill("SIGKILL");
    await child?.exited;
    if (root) await removeDir(root);
  });

  const hello = async () => (await post(base, "/api/shop/shop/greeter/hello")).body;
  let reloads = 0;
  /** Waits for shop's next reload report: its line and the problem lines under it. */
  const nextReport = async () => {
    reloads += 1;
    const reports = () => [...child.stdout().matchAll(/jit dev: app shop (?:reloaded|NOT reloaded)[^\n]*\n(?:  [^\n]*\n)*/g)].map((m) => m[0]);
    const deadline = Date.now() + 20_000;
    while (reports().length < reloads) {
      if (Date.now() > deadline) throw new Error(`no reload report ${reloads}; stdout:\n${child.stdout()}`);
      await new Promise((resolve) => setTimeout(resolve, 25));
    }
    return reports()[reloads - 1]!;
  };
  const overview = async () =>
    (await (await fetch(`${base}/console/api/overview?app=shop`, { headers: { authorization: `Bearer ${ADMIN}` } })).json()) as {
      apps: { appId: string; problems: { code: string; file?: string; pointer?: string }[] }[];
    };

  it("serves every app with the fake WeChat server, which knows each app's mini program", async () => {
    expect(await hello()).toEqual({ data: "v1: hello" });
    const minted = await post(fakeUrl, "/__fake/codes", { appId: MINI.blog.appId, openId: "o-dev" });
    const issued = await post(base, "/api/blog/auths/loginTypes/myWeChatMiniLogin/getLoginCode", { code: minted.body.code });
    expect(issued.status).toBe(200);
    expect(issued.body.data.bindCode).toEqual(expect.any(String));
  });

  it("a saved business config changes the next answer; a request in flight finishes on the old version; sessions stay", async () => {
    // A session before the reload.
    const minted = await post(fakeUrl, "/__fake/codes", { appId: MINI.shop.appId, openId: "o-session" });
    const issued = await post(base, "/api/shop/auths/loginTypes/myWeChatMiniLogin/getLoginCode", { code: minted.body.code });
    const registered = await post(base, "/api/shop/auths/loginTypes/myWeChatMiniLogin/register", { bindCode: issued.body.data.bindCode });
    const session = await post(base, "/api/shop/auths/loginTypes/services/AuthSvc/loginByCode", { loginCode: registered.body.data.loginCode });
    const token = session.body.data.token as string;

    const inFlight = post(base, "/api/shop/shop/greeter/slowHello");
    await new Promise((resolve) => setTimeout(resolve, 200)); // inside the old version now
    await writeTree(root, { [`${GREETER}/greeter.json`]: { greeting: "bonjour" } });
    expect(await nextReport()).toMatch(/jit dev: app shop reloaded: version 2 serves from the next request \(\d+ ms\)/);
    expect(child.stdout()).toContain(`${path.join("apps", "shop", "elements", "shop", "greeter", "greeter.json")} changed: reloading app shop`);
    expect(await hello()).toEqual({ data: "v1: bonjour" });
    expect((await inFlight).body).toEqual({ data: "v1: hello" });

    const me = await post(base, "/api/shop/auths/loginTypes/services/AuthSvc/getCurrentUser", undefined, { token });
    expect(me.body.data.userId).toBe(session.body.data.userId);
  }, 30_000);

  it("a broken e.json keeps the last good version serving and names file and JSON path, in the output and the console, until fixed", async () => {
    const file = path.join(root, GREETER, "e.json");
    const good = await fs.readFile(file, "utf8");
    await fs.writeFile(file, good.replace('"title": "Greeter"', '"title": 5'));
    const report = await nextReport();
    expect(report).toContain("jit dev: app shop NOT reloaded: 1 problem; version 2 keeps serving until fixed");
    expect(report).toContain(`  SCHEMA_INVALID ${file}#/title: must be string`);
    expect(await hello()).toEqual({ data: "v1: bonjour" });
    const shown = (await overview()).apps.find((a) => a.appId === "shop")!;
    expect(shown.problems).toEqual([expect.objectContaining({ code: "SCHEMA_INVALID", file, pointer: "/title" })]);
    expect((await overview()).apps.find((a) => a.appId === "blog")!.problems).toEqual([]);

    // Malformed JSON too: still the last good version.
    await fs.writeFile(file, good.slice(0, 40));
    expect(await nextReport()).toContain("NOT reloaded");
    expect(child.stdout()).toContain(`  JSON_MALFORMED ${file}`);
    expect(await hello()).toEqual({ data: "v1: bonjour" });

    await fs.writeFile(file, good);
    expect(await nextReport()).toMatch(/app shop reloaded: version 3 serves from the next request \(\d+ ms\); the problems are fixed/);
    expect(await hello()).toEqual({ data: "v1: bonjour" });
    expect((await overview()).apps.find((a) => a.appId === "shop")!.problems).toEqual([]);
  }, 30_000);

  it("a changed module, and a changed file it imports, are imported afresh", async () => {
    const index = path.join(root, GREETER, "index.ts");
    await fs.writeFile(index, (await fs.readFile(index, "utf8")).replace('prefix + ": "', 'prefix + " | "'));
    await nextReport();
    expect(await hello()).toEqual({ data: "v1 | bonjour" });
    await writeTree(root, { [`${GREETER}/prefix.ts`]: `export const prefix = "v2";\n` });
    await nextReport();
    expect(await hello()).toEqual({ data: "v2 | bonjour" });
    // A module that fails to load keeps the version serving.
    await fs.writeFile(index, "export default 42;\n");
    expect(await nextReport()).toContain("NOT reloaded");
    expect(child.stdout()).toContain(`MODULE_LOAD_FAILED ${index}`);
    expect(await hello()).toEqual({ data: "v2 | bonjour" });
  }, 30_000);

  it("stops gracefully on SIGTERM", async () => {
    child.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
  }, 20_000);
});
