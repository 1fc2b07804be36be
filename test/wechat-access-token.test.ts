import { spawn } from "node:child_process";
import { createHash, randomBytes } from "node:crypto";
import path from "node:path";
import readline from "node:readline";
import { afterAll, afterEach, beforeAll, describe, expect, it } from "vitest";
import { ManualClock } from "../runtime/clock.ts";
import { isJitError } from "../runtime/errors/index.ts";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { createAccessTokens, createWeChatHttp, createWeChatServerApi, type AccessTokenOptions, type WeChatServerApi } from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";
import { createAccessTokenSeal } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import { tempSqliteStore } from "./helpers/storeTemp.ts";
import type { SqliteStore } from "../elements/auths/storage/sqlite/SqliteStore.ts";
import { thrown } from "./helpers/thrown.ts";
import { createTestDatabase, PG_ADMIN_URL, randomName } from "./helpers/pgTest.ts";

const ROOT = path.resolve(import.meta.dirname, "..");
const MASTER = randomBytes(32);
const sha = (text: string) => createHash("sha256").update(text).digest("hex");

/**
 * The access token manager against the fake WeChat server and a real SQLite file: one
 * stable_token call however many callers (in one process or two), one renewal when the token
 * runs out, one refresh and one retry when a business call is told the token is bad.
 */
describe("WeChat access token", () => {
  let fake: FakeWeChatServer;
  let clock: ManualClock;
  let store: SqliteStore;
  let file: string;
  let cleanupStore: () => Promise<void>;
  let api: WeChatServerApi;
  const appId = `wx${randomBytes(8).toString("hex")}`;
  const appSecret = `secret-${randomBytes(8).toString("hex")}`;

  beforeAll(async () => {
    clock = new ManualClock();
    fake = await startFakeWeChatServer({ apps: [{ appId, appSecret }], clock });
    ({ store, file, cleanup: cleanupStore } = await tempSqliteStore());
    api = createWeChatServerApi(createWeChatHttp(fake.url, 5000), appId, appSecret);
  });
  afterAll(async () => {
    await cleanupStore();
    await fake.close();
  });

  const manager = (options: Partial<AccessTokenOptions> = {}) =>
    createAccessTokens({ appId, api, store, seal: createAccessTokenSeal(MASTER), clock, ...options });

  it("50 concurrent callers with an empty cache, through two managers on one store → one stable_token call", async () => {
    const [a, b] = [manager(), manager()];
    const tokens = await Promise.all(Array.from({ length: 50 }, (_, i) => (i % 2 ? a : b).get()));
    expect(new Set(tokens).size).toBe(1);
    expect(fake.stats().stable_token).toBe(1);
    // Stored sealed: the row does not hold the token in clear.
    const row = await store.getAccessToken(appId);
    expect(row?.sealed).toMatch(/^v1\./);
    expect(row?.sealed).not.toContain(tokens[0]);
  });

  it("a token that expires mid-run is renewed once, for all callers", async () => {
    const m = manager();
    const first = await m.get();
    const before = fake.stats().stable_token;
    clock.advance(7_200_000 + 1000);
    const tokens = await Promise.all(Array.from({ length: 50 }, () => m.get()));
    expect(new Set(tokens).size).toBe(1);
    expect(tokens[0]).not.toBe(first);
    expect(fake.stats().stable_token - before).toBe(1);
    // Renewed ahead of expiry: inside the margin, the next caller renews (the fake still answers the same token).
    clock.advance(7_200_000 - 200_000);
    await m.get();
    expect(fake.stats().stable_token - before).toBe(2);
  });

  it("a business call answered 40001 → one refresh, one retry; force_refresh only because stable_token gave the same token", async () => {
    const m = manager();
    await m.get();
    clock.advance(60_000);
    const before = fake.stats();
    const forced = fake.forceRefreshes();
    fake.failNext("getuserphonenumber", 40001, 1);
    const code = fake.mintPhoneCode({ appId, purePhoneNumber: "13800138000" });
    const info = await m.withToken((token) => api.getPhoneNumber(token, code));
    expect(info.purePhoneNumber).toBe("13800138000");
    const after = fake.stats();
    expect(after.getuserphonenumber - before.getuserphonenumber).toBe(2);
    expect(after.stable_token - before.stable_token).toBe(2); // normal (same token), then forced
    expect(fake.forceRefreshes() - forced).toBe(1);
  });

  it("a token revoked by WeChat but still handed out by stable_token is replaced by one force_refresh", async () => {
    const m = manager();
    const old = await m.get();
    clock.advance(60_000);
    fake.revokeAccessToken(appId);
    const forced = fake.forceRefreshes();
    const code = fake.mintPhoneCode({ appId, purePhoneNumber: "13800138009" });
    await m.withToken((token) => api.getPhoneNumber(token, code));
    expect(fake.forceRefreshes() - forced).toBe(1);
    expect(await m.get()).not.toBe(old);
  });

  it("a second 40001 is a clear error, not a loop", async () => {
    const m = manager();
    await m.get();
    clock.advance(60_000);
    const before = fake.stats().getuserphonenumber;
    fake.failNext("getuserphonenumber", 40001, 2);
    const err = await thrown(m.withToken((token) => api.getPhoneNumber(token, fake.mintPhoneCode({ appId, purePhoneNumber: "13800138001" }))));
    expect(isJitError(err) && err.code).toBe("WECHAT_TOKEN_REJECTED");
    expect((err as Error).message).toContain("refused again after one refresh");
    expect(fake.stats().getuserphonenumber - before).toBe(2);
  });

  it("within 30 s of a force_refresh, the quota allows none: a clear error, no force call, no retry", async () => {
    const m = manager();
    await m.get();
    fake.failNext("getuserphonenumber", 40001, 1);
    const forced = fake.forceRefreshes();
    const before = fake.stats().getuserphonenumber;
    const err = await thrown(m.withToken((token) => api.getPhoneNumber(token, "any")));
    expect(isJitError(err) && err.code).toBe("WECHAT_TOKEN_REJECTED");
    expect((err as Error).message).toContain("force_refresh quota");
    expect(fake.forceRefreshes()).toBe(forced);
    expect(fake.stats().getuserphonenumber - before).toBe(1);
  });

  it("the force_refresh quota is counted per day in the store: 20, then none until the next day", async () => {
    const rule = (now: number) => ({ day: Math.floor(now / 86_400_000), maxPerDay: 20, minIntervalMs: 30_000 });
    const id = `wx-quota-${randomBytes(4).toString("hex")}`;
    let now = Date.UTC(2026, 0, 1, 0, 0, 0);
    const granted: boolean[] = [];
    for (let i = 0; i < 21; i++, now += 30_000) granted.push(await store.claimForceRefresh(id, now, rule(now)));
    expect(granted.filter(Boolean).length).toBe(20);
    expect(await store.claimForceRefresh(id, now + 86_400_000, rule(now + 86_400_000))).toBe(true);
    expect(await store.claimForceRefresh(id, now + 86_400_000 + 1000, rule(now + 86_400_000 + 1000))).toBe(false);
  });

  it("callers wait for a fetcher that holds the lease, and take over when a crashed one's lease runs out", async () => {
    const id = `wx${randomBytes(8).toString("hex")}`;
    fake.addApp(id, appSecret);
    const otherApi = createWeChatServerApi(createWeChatHttp(fake.url, 5000), id, appSecret);
    // A fetcher that took the lease and died.
    expect(await store.claimAccessTokenFetch(id, "crashed", clock.now(), clock.now() + 10_000, clock.now())).toBe(true);
    const before = fake.stats().stable_token;
    const m = createAccessTokens({ appId: id, api: otherApi, store, seal: createAccessTokenSeal(MASTER), clock, leaseMs: 10_000 });
    const waiting = Promise.all(Array.from({ length: 10 }, () => m.get()));
    await new Promise((resolve) => setTimeout(resolve, 150));
    expect(fake.stats().stable_token - before).toBe(0); // still waiting for the lease
    clock.advance(10_000);
    const tokens = await waiting;
    expect(new Set(tokens).size).toBe(1);
    expect(fake.stats().stable_token - before).toBe(1);
  });

  it("a failed fetch frees the lease at once, and the error names no secret", async () => {
    const id = `wx${randomBytes(8).toString("hex")}`;
    const badApi = createWeChatServerApi(createWeChatHttp(fake.url, 5000), id, "wrong-secret");
    const m = createAccessTokens({ appId: id, api: badApi, store, seal: createAccessTokenSeal(MASTER), clock });
    const err = await thrown(m.get());
    expect(isJitError(err) && err.code).toBe("WECHAT_BAD_CREDENTIALS");
    expect(JSON.stringify(err) + (err as Error).message).not.toContain("wrong-secret");
    expect((await store.getAccessToken(id))?.leaseOwner).toBeNull();
  });

  it("invalidates the stored token only while it is still the one that failed", async () => {
    const row = await store.getAccessToken(appId);
    expect(await store.invalidateAccessToken(appId, "v1.some-older-token")).toBe(false);
    expect((await store.getAccessToken(appId))?.expiresAt).toBe(row?.expiresAt);
    expect(await store.invalidateAccessToken(appId, row!.sealed!)).toBe(true);
    expect((await store.getAccessToken(appId))?.expiresAt).toBe(0);
  });
});

describe("WeChat access token across two processes", () => {
  let fake: FakeWeChatServer;
  const children: Array<() => void> = [];
  afterEach(() => {
    while (children.length) children.pop()!();
  });
  beforeAll(async () => {
    fake = await startFakeWeChatServer();
  });
  afterAll(async () => {
    await fake.close();
  });

  function worker(args: string[]) {
    const child = spawn(process.execPath, ["cli/run-ts.js", "test/helpers/tokenWorker.ts", ...args], { cwd: ROOT, stdio: "pipe" });
    children.push(() => child.kill());
    let stderr = "";
    child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
    const iterator = readline.createInterface({ input: child.stdout })[Symbol.asyncIterator]();
    const exited = new Promise<never>((_, reject) => child.on("exit", (code) => reject(new Error(`worker exited ${code}: ${stderr}`))));
    exited.catch(() => {});
    const nextLine = () => Promise.race([iterator.next().then((r) => r.value as string), exited]);
    const ready = nextLine();
    return { child, ready, result: ready.then(nextLine).then((line) => JSON.parse(line) as { hashes: string[] }) };
  }

  /** Two worker processes on one store, 25 callers each, released at once; how many stable_token calls it took. */
  async function race(storeAt: string): Promise<{ calls: number; tokens: Set<string> }> {
    const appId = `wx${randomBytes(8).toString("hex")}`;
    const appSecret = `secret-${randomBytes(8).toString("hex")}`;
    fake.addApp(appId, appSecret);
    const before = fake.stats().stable_token;
    const args = [storeAt, fake.url, appId, appSecret, MASTER.toString("hex"), "25"];
    const workers = [worker(args), worker(args)];
    expect(await Promise.all(workers.map((w) => w.ready))).toEqual(["ready", "ready"]);
    for (const w of workers) w.child.stdin.write("go\n");
    const results = await Promise.all(workers.map((w) => w.result));
    return { calls: fake.stats().stable_token - before, tokens: new Set(results.flatMap((r) => r.hashes)) };
  }

  it("50 callers in two processes on one SQLite file, empty cache → one stable_token call, one token", async () => {
    const { file, cleanup } = await tempSqliteStore();
    try {
      const { calls, tokens } = await race(file);
      expect(tokens.size).toBe(1);
      expect(calls).toBe(1);
      expect([...tokens][0]).toHaveLength(sha("x").length);
    } finally {
      await cleanup();
    }
  }, 30_000);

  it.skipIf(!PG_ADMIN_URL)("50 callers in two processes on one PostgreSQL database, empty cache → one stable_token call, one token", async () => {
    const db = await createTestDatabase();
    try {
      const { calls, tokens } = await race(db.url({ schema: randomName("s") }));
      expect(tokens.size).toBe(1);
      expect(calls).toBe(1);
    } finally {
      await db.drop();
    }
  }, 30_000);
});
