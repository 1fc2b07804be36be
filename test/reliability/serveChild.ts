import path from "node:path";
import type { FakeWeChatServer } from "jit-runtime/testing";
import { TEST_MASTER_KEY } from "../helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "../helpers/httpChild.ts";

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
