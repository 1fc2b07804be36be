/**
 * One `jit serve`, many apps: every app of the root under its own /api/<appId>/, each logging
 * in with its own mini program, each app's users in its own database (SQLite: one file per
 * app; PostgreSQL: one schema per app), and an app's data found in the same place whether it
 * is served alone or beside others. Apps that would share one database are refused before
 * anything is opened, with the way out.
 */
import { existsSync } from "node:fs";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { removeDir, TEST_MASTER_KEY } from "./helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";
import { createTestDatabase, describePg, randomName, type TestDatabase } from "./helpers/pgTest.ts";
import { makeTwoAppRoot, MINI, registerAndLogin, whoAmI } from "./helpers/twoApps.ts";

let fake: FakeWeChatServer;
let root: string;
const children: Child[] = [];

beforeAll(async () => {
  fake = await startFakeWeChatServer({ apps: Object.values(MINI) });
  root = await makeTwoAppRoot();
});
afterAll(async () => {
  for (const c of children) c.kill("SIGKILL");
  await Promise.all(children.map((c) => c.exited));
  await fake?.close();
  if (root) await removeDir(root);
});

function serve(args: string[], env: Record<string, string | undefined> = {}): Child {
  const child = startChild([JIT_BIN, "--root", root, ...args], {
    JIT_DB: undefined,
    DATABASE_URL: undefined,
    WECHAT_API_BASE: fake.url,
    JIT_MASTER_KEY: TEST_MASTER_KEY,
    JIT_LOG_LEVEL: "warn",
    ...env,
  });
  children.push(child);
  return child;
}

async function listening(child: Child, label = "apps blog, shop"): Promise<string> {
  return (await child.waitFor(new RegExp(`${label} listening on (http://127\\.0\\.0\\.1:\\d+)`), 60_000))[1]!;
}

async function stop(child: Child) {
  child.kill("SIGTERM");
  return child.exited;
}

describe("jit serve, several apps on SQLite", () => {
  it("serves every app of the root: logins for two AppIDs, each app's users apart, one file per app kept when an app is served alone", async () => {
    const both = serve(["serve", "--port", "0"]);
    const base = await listening(both);
    const shop = await registerAndLogin(base, fake, "shop", "o-same-person");
    const blog = await registerAndLogin(base, fake, "blog", "o-same-person");
    // Each app numbers its own users: the first user of each is 1, and they are not the same user.
    expect([shop.userId, blog.userId]).toEqual([1, 1]);
    expect(await whoAmI(base, "shop", shop.token)).toEqual({ userId: 1 });
    expect(await whoAmI(base, "blog", blog.token)).toEqual({ userId: 1 });
    // A session of one app means nothing to the other.
    expect(await whoAmI(base, "blog", shop.token)).toEqual({ code: "TOKEN_INVALID" });
    expect(await whoAmI(base, "shop", blog.token)).toEqual({ code: "TOKEN_INVALID" });
    // A second shop user: blog still has one.
    expect((await registerAndLogin(base, fake, "shop", "o-second")).userId).toBe(2);
    expect((await registerAndLogin(base, fake, "blog", "o-third")).userId).toBe(2);

    const openapi = (await (await fetch(`${base}/openapi.json`)).json()) as { info: { title: string }; paths: Record<string, unknown> };
    expect(openapi.info.title).toBe('jit-runtime apps "blog", "shop"');
    expect(Object.keys(openapi.paths)).toContain("/api/shop/auths/loginTypes/myWeChatMiniLogin/getLoginCode");
    expect(Object.keys(openapi.paths)).toContain("/api/blog/auths/loginTypes/myWeChatMiniLogin/getLoginCode");
    expect((await fetch(`${base}/healthz`)).status).toBe(200);
    const unknown = await fetch(`${base}/api/nope/x/y`, { method: "POST" });
    expect(unknown.status).toBe(404);
    expect(await stop(both)).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(root, ".jit", "shop.sqlite"))).toBe(true);
    expect(existsSync(path.join(root, ".jit", "blog.sqlite"))).toBe(true);

    // Served alone (--app), shop finds its data where it was: the session still holds.
    const alone = serve(["--app", "shop", "serve", "--port", "0"]);
    const aloneBase = await listening(alone, "app shop");
    expect(await whoAmI(aloneBase, "shop", shop.token)).toEqual({ userId: 1 });
    expect((await fetch(`${aloneBase}/api/blog/auths/loginTypes/services/AuthSvc/getCurrentUser`, { method: "POST" })).status).toBe(404);
    expect(await stop(alone)).toEqual({ code: 0, signal: null });
  }, 120_000);

  it("--app a,b serves those apps; one SQLite file for two apps is refused before anything opens", async () => {
    const listed = serve(["--app", "shop,blog", "serve", "--port", "0"]);
    await listening(listed, "apps shop, blog");
    expect(await stop(listed)).toEqual({ code: 0, signal: null });

    const shared = path.join(root, "shared.sqlite");
    const refused = serve(["serve", "--port", "0", "--db", shared]);
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr()).toContain("CONFIG_INVALID database: apps blog, shop would keep their rows in one SQLite file");
    expect(existsSync(shared)).toBe(false);

    // {appId} gives each app its own file from one setting.
    const templated = serve(["serve", "--port", "0", "--db", path.join(root, "per-app", "{appId}.sqlite")]);
    await listening(templated);
    expect(await stop(templated)).toEqual({ code: 0, signal: null });
    expect(existsSync(path.join(root, "per-app", "shop.sqlite")) && existsSync(path.join(root, "per-app", "blog.sqlite"))).toBe(true);
  }, 120_000);
});

describePg("jit serve, several apps on PostgreSQL", () => {
  let db: TestDatabase;
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  const userCount = async (schema: string) => Number((await db.query<{ n: string }>("SELECT count(*) AS n FROM users", [], schema))[0]!.n);

  it("one URL for two apps is refused; an app already served alone keeps its default-schema data beside another app in its own schema", async () => {
    const url = db.url();
    const refused = serve(["serve", "--port", "0", "--db", url]);
    expect((await refused.exited).code).toBe(1);
    expect(refused.stderr()).toContain("would keep their rows in one database and schema");
    expect(refused.stderr()).toContain("schema=app_{appId}");
    expect(refused.stderr()).not.toContain("postgres://postgres@");

    // The existing deployment: shop alone on the URL, its tables in the default schema.
    const alone = serve(["--app", "shop", "serve", "--port", "0", "--db", url]);
    const aloneBase = await listening(alone, "app shop");
    const shop = await registerAndLogin(aloneBase, fake, "shop", "o-pg-1").catch((err: Error) => {
      throw new Error(`${err.message}\n${alone.stderr()}`);
    });
    expect(await stop(alone)).toEqual({ code: 0, signal: null });
    expect(await userCount("public")).toBe(1);

    // Both apps: shop kept on the URL as it was, blog (and any other) in a schema of its own.
    const blogSchema = `app_blog`;
    const both = serve(["serve", "--port", "0", "--db", `shop=${url}`, "--db", db.url({ schema: "app_{appId}" }), "--workers", "2"]);
    const base = (await both.waitFor(/apps blog, shop listening on (http:\/\/127\.0\.0\.1:\d+) with 2 workers/, 60_000))[1]!;
    expect(await whoAmI(base, "shop", shop.token)).toEqual({ userId: shop.userId });
    const blog = await registerAndLogin(base, fake, "blog", "o-pg-1");
    expect(blog.userId).toBe(1);
    expect(await whoAmI(base, "blog", shop.token)).toEqual({ code: "TOKEN_INVALID" });
    await registerAndLogin(base, fake, "shop", "o-pg-2");
    expect(await stop(both)).toEqual({ code: 0, signal: null });
    expect([await userCount("public"), await userCount(blogSchema)]).toEqual([2, 1]);
  }, 120_000);

  it("a --db naming an app that is not served is a usage error", async () => {
    const child = serve(["--app", "shop", "serve", "--port", "0", "--db", `blog=${db.url({ schema: randomName("s") })}`]);
    expect((await child.exited).code).toBe(2);
    expect(child.stderr()).toContain("--db blog=… names an app that is not served here");
  });
});
