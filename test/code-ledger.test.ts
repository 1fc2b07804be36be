import { describe, expect, it } from "vitest";
import { ManualClock } from "../runtime/clock.ts";
import { hashToken } from "../runtime/security/tokens.ts";
import { createCodeLedger } from "../elements/auths/loginTypes/WeChatMiniType/codeLedger.ts";
import { createExchangeOnce, EXCHANGE_TTL_MS, type WeChatSession } from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";

/** The ledger's own rules (codeLedger.ts); login-code-reuse.test.ts covers them through the element. */
describe("code ledger", () => {
  const rerun = { repeat: "rerun" } as const;
  const refuse = { repeat: "refuse" } as const;

  it("at its cap drops the oldest settled entry, never one still running, and reports it", async () => {
    const clock = new ManualClock();
    const evicted: string[] = [];
    const ledger = createCodeLedger({ clock, maxEntries: 2, onEvict: (hash) => evicted.push(hash) });
    await ledger.claim("code-1", "use", async () => 1, rerun);
    let release!: (value: number) => void;
    const slow = ledger.claim("code-2", "use", () => new Promise<number>((resolve) => (release = resolve)), rerun);
    await ledger.claim("code-3", "use", async () => 3, rerun);
    expect(evicted).toEqual([hashToken("code-1")]);
    expect(ledger.size()).toBe(2);
    // code-2 is still owned while it runs: another use is refused, the same use shares the run.
    await expect(ledger.claim("code-2", "other", async () => 0, rerun)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    const shared = ledger.claim("code-2", "use", async () => -1, rerun);
    release(2);
    expect(await Promise.all([slow, shared])).toEqual([2, 2]);
  });

  it("keeps a use for 5 minutes after its last run; a failed run keeps the use but answers nobody", async () => {
    const clock = new ManualClock();
    const ledger = createCodeLedger({ clock });
    await expect(ledger.claim("c", "login", async () => Promise.reject(new Error("no answer")), refuse)).rejects.toThrow("no answer");
    await expect(ledger.claim("c", "bind", async () => 0, refuse)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    expect(await ledger.claim("c", "login", async () => 7, refuse)).toBe(7);
    await expect(ledger.claim("c", "login", async () => 8, refuse)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    clock.advance(EXCHANGE_TTL_MS - 1);
    await expect(ledger.claim("c", "login", async () => 9, refuse)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    clock.advance(1);
    expect(await ledger.claim("c", "bind", async () => 10, refuse)).toBe(10);
  });

  // Regression: a repeat got the credentials the first call had earned (the same bind code,
  // the same login code), so whoever replayed a code in time got them as well.
  it("refuse: the first caller alone gets the answer, concurrent or later repeats are WECHAT_CODE_USED", async () => {
    const ledger = createCodeLedger({ clock: new ManualClock() });
    let runs = 0;
    const run = async () => ++runs;
    const outcomes = await Promise.allSettled([ledger.claim("x", "login", run, refuse), ledger.claim("x", "login", run, refuse)]);
    expect(outcomes[0]).toEqual({ status: "fulfilled", value: 1 });
    expect(outcomes[1]).toMatchObject({ status: "rejected", reason: { code: "WECHAT_CODE_USED" } });
    await expect(ledger.claim("x", "login", run, refuse)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    expect(runs).toBe(1);
    // A failure leaves the code open only when `retryable` says so.
    const flaky = { repeat: "refuse", retryable: (e: unknown) => e instanceof RangeError } as const;
    await expect(ledger.claim("z", "login", async () => Promise.reject(new RangeError("no answer")), flaky)).rejects.toThrow("no answer");
    await expect(ledger.claim("z", "login", async () => Promise.reject(new TypeError("after the exchange")), flaky)).rejects.toThrow("after the exchange");
    await expect(ledger.claim("z", "login", run, flaky)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    // rerun: a later repeat runs again.
    expect(await ledger.claim("y", "bind", run, rerun)).toBe(2);
    expect(await ledger.claim("y", "bind", run, rerun)).toBe(3);
  });

  it("the exchange forgets a code on request, so a repeat asks WeChat again", async () => {
    const asked: string[] = [];
    const session: WeChatSession = { openId: "o", unionId: null, sessionKey: "k" };
    const exchange = createExchangeOnce({ code2Session: async (code) => (asked.push(code), session) }, { clock: new ManualClock() });
    await exchange.code2Session("js-code");
    await exchange.code2Session("js-code");
    expect(asked).toHaveLength(1);
    exchange.forget(hashToken("js-code"));
    await exchange.code2Session("js-code");
    expect(asked).toHaveLength(2);
  });
});
