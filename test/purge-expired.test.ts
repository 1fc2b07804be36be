import path from "node:path";
import { PassThrough } from "node:stream";
import { afterEach, describe, expect, it } from "vitest";
import { ManualClock } from "../runtime/clock.ts";
import { loadApp, silentLogger } from "../runtime/index.ts";
import { serveApp, type Serving } from "../runtime/http/listen.ts";
import { DEFAULT_PURGE_INTERVAL_MS, resolvePurgeInterval } from "../runtime/http/purge.ts";
import { hashToken, newSecretToken } from "../runtime/security/tokens.ts";
import type { Store } from "../elements/auths/storage/Store.ts";
import { DEMO_APPID, TEST_MASTER_KEY, makeTempRoot, removeDir } from "./helpers/http.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

// Issue 3 says expired rows are purged: `jit serve` (serveApp) purges at start-up and then
// on an interval, judging expiry by the app's clock. Guards against purgeExpired having no
// caller (review finding 1).

const MINUTE = 60_000;
const cleanups: Array<() => Promise<void>> = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

interface Rows {
  bind: string;
  login: string;
  session: string;
}

/** One bind code, login code and session, each expiring `ttl` after the clock's now. */
async function seed(store: Store, clock: ManualClock, ttl: number): Promise<Rows> {
  const now = clock.now();
  const user = await store.createUser({ name: "purge" }, now);
  const rows = { bind: hashToken(newSecretToken()), login: hashToken(newSecretToken()), session: hashToken(newSecretToken()) };
  await store.saveBindCode(rows.bind, { appId: DEMO_APPID, openId: `o-${rows.bind.slice(0, 8)}`, unionId: null, expiresAt: now + ttl }, now);
  await store.saveLoginCode(rows.login, { appId: DEMO_APPID, userId: user.userId, expiresAt: now + ttl }, now);
  await store.createSession(rows.session, { userId: user.userId, corpId: null, expiresAt: now + ttl }, now);
  return rows;
}

/** An expired code still stored answers "expired"; a purged one is gone ("invalid"). */
async function codesState(store: Store, rows: Rows, now: number): Promise<string[]> {
  return [(await store.consumeCode("bind", rows.bind, now)).status, (await store.consumeCode("login", rows.login, now)).status];
}

async function start(clock: ManualClock, purgeIntervalMs: number) {
  const root = await makeTempRoot();
  const lines: string[] = [];
  const sink = new PassThrough();
  sink.on("data", (chunk: Buffer) => lines.push(...chunk.toString("utf8").split("\n").filter(Boolean)));
  const app = await loadApp({ root, appId: "demo", dbFile: path.join(root, "data", "purge.sqlite"), env: { JIT_MASTER_KEY: TEST_MASTER_KEY }, clock, logger: silentLogger });
  let serving: Serving | undefined;
  cleanups.push(async () => {
    if (serving) await serving.stop();
    await app.close();
    await removeDir(root);
  });
  const store = await storeOf(app);
  const launch = async () => {
    serving = await serveApp({
      app,
      port: 0,
      host: "127.0.0.1",
      env: {},
      logger: { level: "debug", stream: sink },
      limits: { ipRate: null, familyRates: { identity: null } },
      handleSignals: false,
      purgeIntervalMs,
    });
    return serving;
  };
  const logged = () => lines.map((l) => JSON.parse(l));
  const purgedLines = () => logged().filter((l) => l.msg === "purged expired codes and sessions");
  return { app, store, launch, purgedLines, logged };
}

describe("purging expired rows while serving", () => {
  it("purges rows expired by the app's clock at start-up and keeps live ones", async () => {
    const clock = new ManualClock();
    const { store, launch, purgedLines } = await start(clock, 0);
    const old = await seed(store, clock, 5 * MINUTE);
    clock.advance(10 * MINUTE);
    const live = await seed(store, clock, 5 * MINUTE);

    await launch();
    expect(purgedLines().map((l) => l.purged)).toEqual([{ bindCodes: 1, loginCodes: 1, sessions: 1, wxCodes: 0, rateWindows: 0, loginFailures: 0 }]);
    expect(purgedLines()[0].level).toBe(30); // info when something went
    expect(await codesState(store, old, clock.now())).toEqual(["invalid", "invalid"]);
    expect(await store.getSession(live.session, clock.now())).toMatchObject({ expiresAt: clock.now() + 5 * MINUTE });
    expect(await codesState(store, live, clock.now())).toEqual(["ok", "ok"]);
  });

  it("purges again on the interval and stops the interval on shutdown", async () => {
    const clock = new ManualClock();
    const { store, launch, purgedLines, logged } = await start(clock, 20);
    const serving = await launch();
    expect(purgedLines()[0].purged).toEqual({ bindCodes: 0, loginCodes: 0, sessions: 0, wxCodes: 0, rateWindows: 0, loginFailures: 0 });
    expect(purgedLines()[0].level).toBe(20); // debug when nothing went

    const rows = await seed(store, clock, 5 * MINUTE);
    clock.advance(6 * MINUTE);
    const purged = () => purgedLines().some((l) => l.purged.bindCodes === 1 && l.purged.loginCodes === 1 && l.purged.sessions === 1);
    for (const deadline = Date.now() + 10_000; !purged() && Date.now() < deadline; ) await new Promise((r) => setTimeout(r, 10));
    expect(purged()).toBe(true);
    expect(await codesState(store, rows, clock.now())).toEqual(["invalid", "invalid"]);

    await serving.stop();
    expect(await serving.stopped).toBe(0);
    // The store is closed now: a tick still running would log a purge or a failure.
    const count = logged().length;
    await new Promise((r) => setTimeout(r, 100));
    expect(logged().slice(count)).toEqual([]);
    expect(logged().filter((l) => l.msg === "purging expired rows failed")).toEqual([]);
  });

  it("a failing start-up purge (store cannot open) fails serveApp", async () => {
    const clock = new ManualClock();
    const root = await makeTempRoot();
    cleanups.push(() => removeDir(root));
    // A directory where the database file should be: the store cannot open it.
    const app = await loadApp({ root, appId: "demo", dbFile: root, env: { JIT_MASTER_KEY: TEST_MASTER_KEY }, clock, logger: silentLogger });
    cleanups.push(() => app.close());
    await expect(serveApp({ app, port: 0, host: "127.0.0.1", env: {}, logger: false, handleSignals: false, purgeIntervalMs: 0 })).rejects.toMatchObject({
      code: "STORE_OPEN_FAILED",
    });
  });

  it("the interval comes from the option, else JIT_PURGE_INTERVAL_MS, else 10 minutes; 0 is off", () => {
    expect(resolvePurgeInterval(undefined, {})).toBe(DEFAULT_PURGE_INTERVAL_MS);
    expect(DEFAULT_PURGE_INTERVAL_MS).toBe(10 * MINUTE);
    expect(resolvePurgeInterval(undefined, { JIT_PURGE_INTERVAL_MS: "" })).toBe(DEFAULT_PURGE_INTERVAL_MS);
    expect(resolvePurgeInterval(undefined, { JIT_PURGE_INTERVAL_MS: "0" })).toBe(0);
    expect(resolvePurgeInterval(undefined, { JIT_PURGE_INTERVAL_MS: "5000" })).toBe(5000);
    expect(resolvePurgeInterval(250, { JIT_PURGE_INTERVAL_MS: "5000" })).toBe(250);
    for (const bad of ["soon", "-1", "1.5", "99999999999"]) {
      expect(() => resolvePurgeInterval(undefined, { JIT_PURGE_INTERVAL_MS: bad })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    }
  });
});
