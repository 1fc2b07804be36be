import { randomBytes } from "node:crypto";
import { afterEach, describe, expect, it, vi } from "vitest";
import { ManualClock } from "../runtime/clock.ts";
import { hashToken } from "../runtime/security/tokens.ts";
import { openSqliteStore, type SqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { CODE_TTL_MS, createCodeLedger, Unwritten, type LedgerDeps } from "../elements/auths/loginTypes/WeChatMiniType/codeLedger.ts";
import { createSessionKeyVault } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import { tempSqliteStore } from "./helpers/storeTemp.ts";

/**
 * The ledger's own rules (codeLedger.ts) on a real SQLite file, with a second store on the
 * same file standing for another process; login-code-reuse.test.ts covers them through the
 * element, and serve-cluster.test.ts with real `jit serve` processes.
 */
describe("code ledger (in the store)", () => {
  const cleanups: (() => Promise<void>)[] = [];
  afterEach(async () => {
    while (cleanups.length) await cleanups.pop()!();
  });

  const keepAll = { keep: () => true, retryable: () => true };
  const keepNone = { keep: () => false, retryable: () => false };

  async function setup(leaseMs = 1_000) {
    const { store, file, cleanup } = await tempSqliteStore();
    cleanups.push(cleanup);
    const peer: SqliteStore = await openSqliteStore({ file, writer: "inline" });
    cleanups.push(() => peer.close());
    const clock = new ManualClock();
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store, clock });
    const deps = (s: SqliteStore): LedgerDeps => ({ appId: "wx-ledger", clock, leaseMs, store: async () => s, seal: async () => vault });
    // Separate in-flight maps: two processes share nothing but the database.
    return { store, clock, here: createCodeLedger(deps(store), new Map()), there: createCodeLedger(deps(peer), new Map()) };
  }

  it("a kept answer is the answer to every repeat, in this process and another, with one run", async () => {
    const { here, there } = await setup();
    let runs = 0;
    const run = async () => ({ loginCode: `lc-${++runs}` });
    const answers = await Promise.all([...Array(6)].map((_, i) => (i % 2 ? there : here).claim("code-a", "getLoginCode", run, keepAll)));
    expect(runs).toBe(1);
    expect(new Set(answers.map((a) => a.loginCode))).toEqual(new Set(["lc-1"]));
    expect(await there.claim("code-a", "getLoginCode", run, keepAll)).toEqual({ loginCode: "lc-1" });
  });

  it("a result not kept goes to its caller only: every other caller, here or there, gets WECHAT_CODE_USED", async () => {
    const { here, there } = await setup();
    let release!: () => void;
    const gate = new Promise<void>((r) => (release = r));
    const first = here.claim("code-b", "getLoginCode", async () => (await gate, { bindCode: "secret" }), keepNone);
    const others = [here, there, there].map((l) => l.claim("code-b", "getLoginCode", async () => ({ bindCode: "other" }), keepNone).catch((e: unknown) => e));
    release();
    expect(await first).toEqual({ bindCode: "secret" });
    for (const o of await Promise.all(others)) expect(o).toMatchObject({ code: "WECHAT_CODE_USED" });
  });

  it("another use of the code is refused; a retryable failure leaves it open for the same use", async () => {
    const { here, there } = await setup();
    const failing = here.claim("code-c", "bind:1", async () => Promise.reject(new Error("WeChat unreachable")), keepAll);
    await expect(failing).rejects.toThrow("WeChat unreachable");
    await expect(there.claim("code-c", "getLoginCode", async () => 1, keepAll)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    expect(await there.claim("code-c", "bind:1", async () => 2, keepAll)).toBe(2);
    await expect(there.claim("code-c", "bind:2", async () => 3, keepAll)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
  });

  it("a holder that died is taken over once its lease ran out; an entry older than 5 minutes is forgotten", async () => {
    const { store, clock, there } = await setup(1_000);
    // A claim whose process died: never settled.
    const now = clock.now();
    await store.claimWxCode(
      hashToken("code-d"),
      { appId: "wx-ledger", use: "getLoginCode", holder: "dead", leaseUntil: now + 1_000, expiresAt: now + CODE_TTL_MS },
      now,
    );
    const waiting = there.claim("code-d", "getLoginCode", async () => "taken over", keepAll);
    await new Promise((r) => setTimeout(r, 50));
    clock.advance(1_000);
    expect(await waiting).toBe("taken over");
    clock.advance(CODE_TTL_MS);
    expect(await there.claim("code-d", "bind:9", async () => "new use", keepAll)).toBe("new use");
  });

  it("a run that hands back its result Unwritten: the ledger queues its record before the run's writes are durable, and answers after both", async () => {
    const { store, clock } = await setup();
    const events: string[] = [];
    const spy: Pick<SqliteStore, "claimWxCode" | "settleWxCode" | "commitsTurnTogether"> = {
      commitsTurnTogether: true,
      claimWxCode: (...args) => store.claimWxCode(...args),
      settleWxCode: (...args) => {
        events.push("record queued");
        return store.settleWxCode(...args).finally(() => events.push("record durable"));
      },
    };
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store, clock });
    const ledger = createCodeLedger({ appId: "wx-ledger", clock, leaseMs: 1_000, store: async () => spy, seal: async () => vault }, new Map());
    let release!: () => void;
    const written = new Promise<void>((r) => (release = r)).then(() => void events.push("run's writes durable"));
    const answer = ledger.claim("code-u", "getLoginCode", async () => new Unwritten({ loginCode: "lc-u" }, written), keepAll).then((v) => {
      events.push("answered");
      return v;
    });
    // Waits for the record's fsync however slow the disk is (a fixed sleep failed under load).
    await vi.waitFor(() => expect(events).toContain("record durable"), { timeout: 10_000 });
    expect(events).toEqual(["record queued", "record durable"]); // not answered: the run's writes are not durable yet
    release();
    expect(await answer).toEqual({ loginCode: "lc-u" });
    expect(events).toEqual(["record queued", "record durable", "run's writes durable", "answered"]);
  });

  it("an Unwritten run whose writes fail: its caller hears that failure, and the code gives no second run", async () => {
    const { here, there } = await setup();
    let runs = 0;
    const failing = here.claim("code-v", "getLoginCode", async () => (runs++, new Unwritten({ loginCode: "lc-v" }, Promise.reject(new Error("disk full")))), keepAll);
    await expect(failing).rejects.toThrow("disk full");
    // The record says answered: a repeat gets that login code (never stored, so it redeems as
    // LOGIN_CODE_INVALID) and never reaches WeChat again.
    expect(await there.claim("code-v", "getLoginCode", async () => (runs++, { loginCode: "other" }), keepAll)).toEqual({ loginCode: "lc-v" });
    expect(runs).toBe(1);
  });

  it("a store whose writes commit one by one (PostgreSQL): the record waits for the run's writes, and their failure spends the code", async () => {
    const { store, clock } = await setup();
    const events: string[] = [];
    const oneByOne: Pick<SqliteStore, "claimWxCode" | "settleWxCode"> & { commitsTurnTogether: boolean } = {
      commitsTurnTogether: false,
      claimWxCode: (...args) => store.claimWxCode(...args),
      settleWxCode: (...args) => {
        events.push(`record queued (${args[2].state})`);
        return store.settleWxCode(...args);
      },
    };
    const vault = createSessionKeyVault({ masterKey: randomBytes(32), store, clock });
    const ledger = createCodeLedger({ appId: "wx-ledger", clock, leaseMs: 1_000, store: async () => oneByOne, seal: async () => vault }, new Map());
    let release!: () => void;
    const written = new Promise<void>((r) => (release = r)).then(() => void events.push("run's writes durable"));
    const answer = ledger.claim("code-w", "getLoginCode", async () => new Unwritten({ loginCode: "lc-w" }, written), keepAll);
    await new Promise((r) => setTimeout(r, 20));
    expect(events).toEqual([]); // nothing readable yet that speaks for writes not yet there
    release();
    expect(await answer).toEqual({ loginCode: "lc-w" });
    expect(events).toEqual(["run's writes durable", "record queued (answered)"]);

    const spendOnFailure = { keep: () => true, retryable: () => false };
    const failing = ledger.claim("code-x", "getLoginCode", async () => new Unwritten({ loginCode: "lc-x" }, Promise.reject(new Error("disk full"))), spendOnFailure);
    await expect(failing).rejects.toThrow("disk full");
    expect(events.at(-1)).toBe("record queued (spent)");
    await expect(ledger.claim("code-x", "getLoginCode", async () => ({ loginCode: "again" }), spendOnFailure)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
  });
});
