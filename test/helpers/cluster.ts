import { execFileSync } from "node:child_process";
import { type FakeWeChatServer } from "jit-runtime/testing";
import { TEST_MASTER_KEY } from "./http.ts";
import { JIT_BIN, startChild, type Child } from "./httpChild.ts";

/** Limits out of the way: every request here comes from 127.0.0.1 and the tests are about the store. */
export const UNLIMITED = { JIT_RATE_LIMIT_IP: "off", JIT_RATE_LIMIT_USER: "off", JIT_RATE_LIMIT_OPENID: "off" };

export interface Cluster {
  bases: string[];
  children: Child[];
  stop(): Promise<void>;
}

/** `count` jit serve processes (or one with `--workers`, via `args`) on the database `db`. */
export async function startServers(root: string, fake: FakeWeChatServer, db: string, count: number, args: string[] = [], env: Record<string, string> = {}): Promise<Cluster> {
  const children = Array.from({ length: count }, () =>
    startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", db, ...args], {
      JIT_DB: undefined,
      DATABASE_URL: undefined,
      WECHAT_API_BASE: fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "warn",
      ...UNLIMITED,
      ...env,
    }),
  );
  const bases = await Promise.all(children.map(async (c) => (await c.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!));
  return {
    bases,
    children,
    async stop() {
      for (const c of children) c.kill("SIGTERM");
      await Promise.all(children.map((c) => c.exited));
    },
  };
}


/** The pids of a process's children (the cluster's workers). */
export function childPids(pid: number): number[] {
  try {
    return execFileSync("ps", ["--ppid", String(pid), "-o", "pid="], { encoding: "utf8" })
      .split("\n")
      .map((l) => Number(l.trim()))
      .filter((n) => n > 0);
  } catch {
    return []; // ps exits 1 when there is none
  }
}

export async function until(check: () => boolean, timeoutMs = 20_000): Promise<void> {
  const end = Date.now() + timeoutMs;
  while (!check()) {
    if (Date.now() > end) throw new Error("timed out");
    await new Promise((r) => setTimeout(r, 50));
  }
}

