/**
 * `jit dev` as a real child process when an app does not load at start: the apps that load
 * are served, every problem of the broken one is printed with file and JSON path, and once a
 * saved file fixes it, it is served too (its mini program known to the fake WeChat server).
 * With no app loading at all, `jit dev` keeps running and starts serving at the first fix.
 */
import fs from "node:fs/promises";
import path from "node:path";
import { afterAll, describe, expect, it } from "vitest";
import { post, removeDir, TEST_MASTER_KEY } from "./helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";
import { makeTwoAppRoot, MINI } from "./helpers/twoApps.ts";

const ENV = {
  JIT_DB: undefined,
  DATABASE_URL: undefined,
  WECHAT_API_BASE: undefined,
  JIT_ADMIN_TOKEN: "dev-test-admin-token-0123456789abcdef",
  JIT_MASTER_KEY: TEST_MASTER_KEY,
  JIT_LOG_LEVEL: "warn",
};
const LOGIN = "elements/auths/loginTypes/myWeChatMiniLogin/e.json";

/** Breaks the login instance's e.json twice over (three schema problems: the config it no longer finds is the third) and returns its good text. */
async function breakLogin(root: string, appId: string): Promise<{ file: string; good: string }> {
  const file = path.join(root, "apps", appId, LOGIN);
  const good = await fs.readFile(file, "utf8");
  const e = JSON.parse(good) as Record<string, unknown>;
  await fs.writeFile(file, JSON.stringify({ ...e, title: 5, frontBundleEntry: 7 }, null, 2));
  return { file, good };
}

async function waitOutput(child: Child, pattern: RegExp): Promise<string> {
  const deadline = Date.now() + 30_000;
  for (;;) {
    const m = pattern.exec(child.stdout());
    if (m) return m[0];
    if (Date.now() > deadline) throw new Error(`no ${pattern} in stdout:\n${child.stdout()}`);
    await new Promise((resolve) => setTimeout(resolve, 25));
  }
}

async function loginCodeAt(base: string, fakeUrl: string, appId: keyof typeof MINI, openId: string) {
  const minted = await post(fakeUrl, "/__fake/codes", { appId: MINI[appId].appId, openId });
  return post(base, `/api/${appId}/auths/loginTypes/myWeChatMiniLogin/getLoginCode`, { code: minted.body.code });
}

describe("jit dev with an app that does not load at start", () => {
  const roots: string[] = [];
  const children: Child[] = [];
  afterAll(async () => {
    for (const child of children) {
      child.kill("SIGKILL");
      await child.exited;
    }
    for (const root of roots) await removeDir(root);
  });

  it("serves the others, prints every problem with file and JSON path, keeps watching, and serves it once fixed", async () => {
    const root = await makeTwoAppRoot();
    roots.push(root);
    const { file, good } = await breakLogin(root, "blog");
    const child = startChild([JIT_BIN, "--root", root, "dev", "--port", "0"], ENV);
    children.push(child);
    const fakeUrl = (await child.waitFor(/fake WeChat server on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    const base = (await child.waitFor(/app shop listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    await child.waitFor(/watching .* for changes/);

    const report = await waitOutput(child, /jit dev: app blog NOT loaded[^\n]*\n(?: {2}[^\n]*\n)*/);
    expect(report).toContain("jit dev: app blog NOT loaded: 3 problems; it is served once a saved file fixes them");
    expect(report).toContain(`  SCHEMA_INVALID ${file}#/title: must be string`);
    expect(report).toContain(`  SCHEMA_INVALID ${file}#/frontBundleEntry: must be string`);
    expect(report).toContain(`  SCHEMA_INVALID ${file}#/authConfig: is required`);

    expect((await loginCodeAt(base, fakeUrl, "shop", "o-shop")).status).toBe(200);
    const unserved = await loginCodeAt(base, fakeUrl, "blog", "o-blog");
    expect(unserved.status).toBe(404);
    expect(unserved.body.error.code).toBe("ROUTE_NOT_FOUND");

    // Still broken after another save: reported again, still not served.
    await fs.writeFile(file, good.slice(0, 30));
    await waitOutput(child, /jit dev: app blog NOT loaded: 1 problem; it is served once fixed\n {2}JSON_MALFORMED [^\n]*e\.json/);

    await fs.writeFile(file, good);
    await waitOutput(child, /jit dev: app blog loaded: served from the next request \(\d+ ms\); the problems are fixed\n/);
    const issued = await loginCodeAt(base, fakeUrl, "blog", "o-blog");
    expect(issued.status).toBe(200);
    expect(issued.body.data.bindCode).toEqual(expect.any(String));
    const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as { paths: Record<string, unknown> };
    expect(Object.keys(openapi.paths).some((p) => p.startsWith("/api/blog/"))).toBe(true);

    // From now on an ordinary reload.
    await fs.writeFile(file, good.replace(/\n?$/, "\n"));
    await waitOutput(child, /jit dev: app blog reloaded: version 2 serves from the next request/);
    expect((await loginCodeAt(base, fakeUrl, "shop", "o-shop-2")).status).toBe(200);

    child.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it("keeps running when no app loads, and starts serving at the first fix", async () => {
    const root = await makeTwoAppRoot();
    roots.push(root);
    await fs.rm(path.join(root, "apps", "blog"), { recursive: true });
    const { file, good } = await breakLogin(root, "shop");
    const child = startChild([JIT_BIN, "--root", root, "dev", "--port", "0"], ENV);
    children.push(child);
    const fakeUrl = (await child.waitFor(/fake WeChat server on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
    await child.waitFor(/watching .* for changes/, 60_000);
    expect(child.stdout()).toContain("jit dev: app shop NOT loaded: 3 problems");
    expect(child.stdout()).not.toContain("listening on");

    await fs.writeFile(file, good);
    const base = (await child.waitFor(/app shop listening on (http:\/\/127\.0\.0\.1:\d+)/, 30_000))[1]!;
    await child.waitFor(/jit dev: app shop loaded: served from the next request/);
    expect((await loginCodeAt(base, fakeUrl, "shop", "o-first")).status).toBe(200);

    child.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
  }, 90_000);

  it("with no app loading, still stops on SIGTERM", async () => {
    const root = await makeTwoAppRoot();
    roots.push(root);
    await fs.rm(path.join(root, "apps", "blog"), { recursive: true });
    await breakLogin(root, "shop");
    const child = startChild([JIT_BIN, "--root", root, "dev", "--port", "0"], ENV);
    children.push(child);
    await child.waitFor(/watching .* for changes/, 60_000);
    child.kill("SIGTERM");
    expect(await child.exited).toEqual({ code: 0, signal: null });
  }, 90_000);
});
