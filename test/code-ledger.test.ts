import { describe, expect, it } from "vitest";
import { ManualClock } from "../runtime/clock.ts";
import { hashToken } from "../runtime/security/tokens.ts";
import { createCodeLedger } from "../elements/auths/loginTypes/WeChatMiniType/codeLedger.ts";
import { createExchangeOnce, EXCHANGE_TTL_MS, type WeChatSession } from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";

/** The ledger's own rules (codeLedger.ts); login-code-reuse.test.ts covers them through the element. */
describe("code ledger", () => {
  it("at its cap drops the oldest settled entry, never one still running, and reports it", async () => {
    const clock = new ManualClock();
    const evicted: string[] = [];
    const ledger = createCodeLedger({ clock, maxEntries: 2, onEvict: (hash) => evicted.push(hash) });
    await ledger.claim("code-1", "use", async () => 1);
    let release!: (value: number) => void;
    const slow = ledger.claim("code-2", "use", () => new Promise<number>((resolve) => (release = resolve)));
    await ledger.claim("code-3", "use", async () => 3);
    expect(evicted).toEqual([hashToken("code-1")]);
    expect(ledger.size()).toBe(2);
    // code-2 is still owned while it runs: another use is refused, the same use shares the run.
    await expect(ledger.claim("code-2", "other", async () => 0)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    const shared = ledger.claim("code-2", "use", async () => -1);
    release(2);
    expect(await Promise.all([slow, shared])).toEqual([2, 2]);
  });

  it("keeps a use for 5 minutes after its last run; a failed run keeps the use but not the result", async () => {
    const clock = new ManualClock();
    const ledger = createCodeLedger({ clock });
    await expect(ledger.claim("c", "login", async () => Promise.reject(new Error("no answer")))).rejects.toThrow("no answer");
    await expect(ledger.claim("c", "bind", async () => 0)).rejects.toMatchObject({ code: "WECHAT_CODE_USED" });
    expect(await ledger.claim("c", "login", async () => 7)).toBe(7);
    expect(await ledger.claim("c", "login", async () => 8)).toBe(7);
    clock.advance(EXCHANGE_TTL_MS - 1);
    expect(await ledger.claim("c", "login", async () => 9)).toBe(7);
    clock.advance(1);
    expect(await ledger.claim("c", "bind", async () => 10)).toBe(10);
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
