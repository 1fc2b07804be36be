import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { PassThrough } from "node:stream";
import { fileURLToPath } from "node:url";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll } from "vitest";
import { loadApp, createLogger, type App, type Clock } from "../../runtime/index.ts";
import { createServer, type CreateServerOptions } from "../../runtime/http/index.ts";
import { hashToken, newSecretToken } from "../../runtime/security/tokens.ts";
import type { HttpLimits } from "../../runtime/http/options.ts";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { storeOf } from "../../elements/auths/storage/storeOf.ts";

/**
 * A real stack for HTTP tests: a temp root holding a copy of apps/demo (plus optional
 * extra elements), the fake WeChat server on 127.0.0.1, the app on
 * a SQLite file in the temp dir, and the server listening on 127.0.0.1:0.
 */

export const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const DEMO_APPID = "wx00000000000demo0";
export const DEMO_SECRET = "demo-secret-for-the-fake-wechat-server";
export const LOGIN = "/api/demo/auths/loginTypes/myWeChatMiniLogin";
export const AUTH = "/api/demo/auths/loginTypes/services/AuthSvc";
export const TEST_MASTER_KEY = Buffer.alloc(32, 7).toString("base64");

export interface Reply {
  status: number;
  headers: Headers;
  body: any;
  text: string;
}

/**
 * A temp root holding a copy of apps/demo, as an app developer's folder does: the platform
 * layer comes from the runtime itself.
 */
export async function makeTempRoot(extra: Record<string, string> = {}): Promise<string> {
  const root = await fs.mkdtemp(path.join(os.tmpdir(), "jit-http-"));
  await fs.cp(path.join(REPO, "apps", "demo"), path.join(root, "apps", "demo"), { recursive: true });
  await fs.writeFile(path.join(root, "package.json"), JSON.stringify({ type: "module", private: true }));
  for (const [file, content] of Object.entries(extra)) {
    await fs.mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await fs.writeFile(path.join(root, file), content);
  }
  return root;
}

export async function removeDir(dir: string): Promise<void> {
  await fs.rm(dir, { recursive: true, force: true });
}

export async function post(base: string, urlPath: string, body?: unknown, init: { token?: string; headers?: Record<string, string>; raw?: string } = {}): Promise<Reply> {
  const headers: Record<string, string> = { ...(init.headers ?? {}) };
  if (body !== undefined || init.raw !== undefined) headers["content-type"] ??= "application/json";
  if (init.token) headers.authorization = `Bearer ${init.token}`;
  return readReply(await fetch(base + urlPath, { method: "POST", headers, body: init.raw ?? (body === undefined ? undefined : JSON.stringify(body)) }));
}

/** Status, headers, text and (when it parses) JSON body of a fetch response, read to the end. */
export async function readReply(res: Response): Promise<Reply> {
  const text = await res.text();
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch {
    parsed = undefined;
  }
  return { status: res.status, headers: res.headers, body: parsed, text };
}

export interface Stack {
  root: string;
  dbFile: string;
  base: string;
  fake: FakeWeChatServer;
  server: FastifyInstance;
  app: App;
  /** Every log line written so far (server and app), as text. */
  logs(): string;
  call(urlPath: string, body?: unknown, init?: { token?: string; headers?: Record<string, string>; raw?: string }): Promise<Reply>;
  code(openId: string, unionId?: string): string;
  /** A new user through getLoginCode → register. */
  register(openId: string): Promise<number>;
  /** getLoginCode → loginByCode for a registered openId. */
  login(openId: string): Promise<{ token: string; userId: number }>;
  /**
   * A session token for a user opened by no WeChat identity (as another login Type, e.g. a
   * password, would open it), written through the store: unbind does not end it.
   */
  signInElsewhere(userId: number): Promise<string>;
  close(): Promise<void>;
}

export interface StackOptions {
  limits?: Partial<HttpLimits>;
  clock?: Clock;
  now?: () => number;
  extraFiles?: Record<string, string>;
  trustProxy?: boolean | string[];
  /** Where SQLite writes run (jit serve uses "worker"); default inline. */
  sqliteWriter?: "inline" | "worker";
  /** false: the server logs nothing (createServer's `logger: false`). */
  httpLog?: false;
  /** More server options (the API page, the console). */
  server?: Pick<CreateServerOptions, "docs" | "console">;
  /** The database (a postgres:// URL, say) instead of a SQLite file in the temp root. */
  db?: string;
  /** false: log lines are written (the logging code runs) but not kept, for long runs. */
  keepLogs?: boolean;
}

const NO_LIMITS: Partial<HttpLimits> = { ipRate: null, userRate: null, familyRates: { identity: null } };

export async function startStack(options: StackOptions = {}): Promise<Stack> {
  const root = await makeTempRoot(options.extraFiles);
  const lines: string[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => {
    if (options.keepLogs !== false) lines.push(chunk.toString("utf8"));
  });
  const fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
  const dbFile = options.db ?? path.join(root, "data", "demo.sqlite");
  const env = { ...process.env, WECHAT_API_BASE: fake.url, JIT_MASTER_KEY: TEST_MASTER_KEY, JIT_DB: undefined, DATABASE_URL: undefined };
  const app = await loadApp({
    root,
    appId: "demo",
    dbFile,
    env,
    logger: createLogger({ level: "debug", destination: sink }),
    ...(options.clock ? { clock: options.clock } : {}),
    ...(options.sqliteWriter ? { sqliteWriter: options.sqliteWriter } : {}),
  });
  const server = await createServer({
    app,
    logger: options.httpLog === false ? false : { level: "debug", stream: sink },
    limits: { ...NO_LIMITS, ...options.limits },
    env: {},
    ...options.server,
    ...(options.now ? { now: options.now } : {}),
    ...(options.trustProxy !== undefined ? { trustProxy: options.trustProxy } : {}),
  });
  await server.listen({ port: 0, host: "127.0.0.1" });
  const address = server.server.address();
  const base = `http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}`;
  const call: Stack["call"] = (urlPath, body, init) => post(base, urlPath, body, init);
  const code = (openId: string, unionId?: string) => fake.mintCode({ appId: DEMO_APPID, openId, ...(unionId ? { unionId } : {}) });

  const stack: Stack = {
    root,
    dbFile,
    base,
    fake,
    server,
    app,
    logs: () => lines.join(""),
    call,
    code,
    async register(openId) {
      const first = await call(`${LOGIN}/getLoginCode`, { code: code(openId) });
      if (first.status !== 200 || !first.body.data.bindCode) throw new Error(`getLoginCode: ${first.text}`);
      const reg = await call(`${LOGIN}/register`, { bindCode: first.body.data.bindCode });
      if (reg.status !== 200) throw new Error(`register: ${reg.text}`);
      return reg.body.data.userId as number;
    },
    async login(openId) {
      const got = await call(`${LOGIN}/getLoginCode`, { code: code(openId) });
      if (got.status !== 200 || !got.body.data.loginCode) throw new Error(`getLoginCode: ${got.text}`);
      const session = await call(`${AUTH}/loginByCode`, { loginCode: got.body.data.loginCode });
      if (session.status !== 200) throw new Error(`loginByCode: ${session.text}`);
      return { token: session.body.data.token as string, userId: session.body.data.userId as number };
    },
    async signInElsewhere(userId) {
      const token = newSecretToken(32);
      const now = app.clock.now();
      await (await storeOf(app)).createSession(hashToken(token), { userId, corpId: null, expiresAt: now + 3_600_000 }, now);
      return token;
    },
    async close() {
      await server.close();
      await app.close();
      await fake.close();
      await removeDir(root);
    },
  };
  return stack;
}

/** A fake WeChat server and a temp app root (apps/demo), for the describe block that calls it. */
export function fakeWeChatAndRoot(): { fake: FakeWeChatServer; root: string } {
  const ctx = {} as { fake: FakeWeChatServer; root: string };
  beforeAll(async () => {
    ctx.fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    ctx.root = await makeTempRoot();
  });
  afterAll(async () => {
    await ctx.fake?.close();
    if (ctx.root) await removeDir(ctx.root);
  });
  return ctx;
}
