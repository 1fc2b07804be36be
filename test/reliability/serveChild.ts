import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { DEMO_APPID, DEMO_SECRET, TEST_MASTER_KEY, makeTempRoot, removeDir } from "../helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "../helpers/httpChild.ts";

/** The fake WeChat server and a root holding apps/demo, for the describe block (created before its tests, removed after). */
export function useFakeAndRoot(): { fake: FakeWeChatServer; root: string } {
  const ctx = {} as { fake: FakeWeChatServer; root: string };
  beforeAll(async () => {
    ctx.fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    ctx.root = await makeTempRoot();
  });
  afterAll(async () => {
    await ctx.fake?.close();
    await removeDir(ctx.root);
  });
  return ctx;
}

/** `jit serve` for apps/demo on a database file of the root, rate limits off, listening on 127.0.0.1. */
export async function serveDemo(ctx: { fake: FakeWeChatServer; root: string }, dbName: string, env: Record<string, string> = {}): Promise<{ child: Child; base: string; port: number }> {
  const child = startChild([JIT_BIN, "--root", ctx.root, "--app", "demo", "serve", "--port", "0", "--db", path.join(ctx.root, "data", dbName)], {
    WECHAT_API_BASE: ctx.fake.url,
    JIT_MASTER_KEY: TEST_MASTER_KEY,
    JIT_RATE_LIMIT_IP: "off",
    JIT_RATE_LIMIT_OPENID: "off",
    ...env,
  });
  try {
    const [, base] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
    return { child, base: base!, port: Number(new URL(base!).port) };
  } catch (err) {
    child.kill("SIGKILL");
    throw err;
  }
}
