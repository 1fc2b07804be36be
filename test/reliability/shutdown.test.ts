import path from "node:path";
import { describe, expect, it } from "vitest";
import { openSqliteStore } from "../../elements/auths/storage/sqlite/index.ts";
import { DEMO_APPID, LOGIN, fakeWeChatAndRoot, post } from "../helpers/http.ts";
import { recordFigures } from "./figures.ts";
import { rawPost, until, type RawAnswer } from "./rawHttp.ts";
import { scaled } from "./scale.ts";
import { serveDemo } from "./serveChild.ts";

// SIGTERM to `jit serve` with 200 requests in flight: 90 registrations whose body is not yet
// complete, 90 getLoginCode waiting on a slow WeChat, and 20 on open connections whose
// headers arrive after the signal. All 200 are answered (200, or SERVER_CLOSING for those
// arriving after the signal), the process exits 0 within its shutdown timeout, and every
// registration answered 200 is in the database when it is opened again.
const IN_FLIGHT = 200;
const ROUNDS = scaled(5, 1);
const SHUTDOWN_TIMEOUT_MS = 8_000;

describe("shutdown under load", () => {
  const ctx = fakeWeChatAndRoot();

  it(`SIGTERM with ${IN_FLIGHT} requests in flight: all answered, exit 0, no acknowledged registration lost`, { timeout: 600_000 }, async () => {
    const totals = { inFlight: 0, ok: 0, closing: 0, dropped: 0, other: 0, registered: 0, lost: 0, exits: [] as string[], slowestExitMs: 0 };
    for (let round = 0; round < ROUNDS; round++) {
      const dbFile = path.join(ctx.root, "data", `shutdown-${round}.sqlite`);
      const { child, base, port } = await serveDemo(ctx, path.basename(dbFile), { JIT_SHUTDOWN_TIMEOUT_MS: String(SHUTDOWN_TIMEOUT_MS) });
      const fake = ctx.fake;
      try {
        const late = 20;
        const half = (IN_FLIGHT - late) / 2;
        // Bind codes for the registrations, before the load.
        const openIds = Array.from({ length: half }, (_, i) => `sd-${round}-${i}`);
        const bindCodes = await Promise.all(openIds.map(async (openId) => (await post(base, `${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId }) })).body.data.bindCode as string));

        // The registrations: headers sent, one byte of the body held back.
        const registrations = bindCodes.map((bindCode) => rawPost(port, `${LOGIN}/register`, JSON.stringify({ bindCode }), { holdBack: 1 }));
        // The logins, waiting on WeChat.
        const exchangesBefore = fake.stats().jscode2session;
        fake.script({ delayMs: 1_500, times: half });
        const logins = Array.from({ length: half }, (_, i) => rawPost(port, `${LOGIN}/getLoginCode`, JSON.stringify({ code: fake.mintCode({ appId: DEMO_APPID, openId: `sd-login-${round}-${i}` }) })));
        const lateComers = Array.from({ length: late }, (_, i) => rawPost(port, `${LOGIN}/getLoginCode`, JSON.stringify({ code: fake.mintCode({ appId: DEMO_APPID, openId: `sd-late-${round}-${i}` }) }), { lateHeaders: true }));
        await Promise.all([...registrations, ...logins, ...lateComers].map((r) => r.connected));
        await until(() => fake.stats().jscode2session - exchangesBefore >= half);
        // Give the held-back registrations time to reach the server's parser.
        await new Promise((r) => setTimeout(r, 200));

        const signalledAt = Date.now();
        child.kill("SIGTERM");
        await until(() => child.stderr().includes("shutting down"), 10_000);
        for (const r of [...registrations, ...lateComers]) r.finish();
        const answers: RawAnswer[] = await Promise.all([...registrations, ...logins, ...lateComers].map((r) => r.answer));
        const exit = await child.exited;
        const exitMs = Date.now() - signalledAt;

        totals.inFlight += answers.length;
        totals.slowestExitMs = Math.max(totals.slowestExitMs, exitMs);
        totals.exits.push(`${exit.code ?? exit.signal}`);
        const acknowledged: Array<{ openId: string; userId: number }> = [];
        answers.forEach((a, i) => {
          if (a === "dropped") return void totals.dropped++;
          const body = JSON.parse(a.body || "{}");
          if (a.status === 200 && i >= IN_FLIGHT - late) totals.other++; // arrived after the signal, yet served
          else if (a.status === 200) {
            totals.ok++;
            if (i < half) acknowledged.push({ openId: openIds[i]!, userId: body.data.userId });
          } else if (a.status === 503 && body.error?.code === "SERVER_CLOSING") totals.closing++;
          else totals.other++;
        });
        totals.registered += acknowledged.length;
        expect(exit, child.stderr().slice(-2000)).toEqual({ code: 0, signal: null });
        expect(exitMs).toBeLessThan(SHUTDOWN_TIMEOUT_MS);

        // Opened again: every acknowledged registration is there.
        const store = await openSqliteStore({ file: dbFile });
        try {
          for (const { openId, userId } of acknowledged) {
            if ((await store.findBindingByOpenId(DEMO_APPID, openId))?.userId !== userId) totals.lost++;
          }
        } finally {
          await store.close();
        }
      } finally {
        child.kill("SIGKILL");
      }
    }
    recordFigures("shutdown", [
      {
        part: "shutdown under load",
        tried: `${ROUNDS} × SIGTERM with ${IN_FLIGHT} requests in flight (90 registrations mid-body, 90 logins waiting on WeChat, 20 arriving after the signal on open connections)`,
        held: `${totals.ok + totals.closing}/${totals.inFlight} answered (${totals.ok} × 200, ${totals.closing} × SERVER_CLOSING), ${totals.dropped} dropped, ${totals.other} other; exit ${[...new Set(totals.exits)].join("/")} within ${(totals.slowestExitMs / 1000).toFixed(1)} s (timeout ${SHUTDOWN_TIMEOUT_MS / 1000} s); ${totals.lost} of ${totals.registered} acknowledged registrations lost`,
        ok: totals.dropped === 0 && totals.other === 0 && totals.lost === 0 && totals.exits.every((e) => e === "0"),
      },
    ]);
    expect({ dropped: totals.dropped, other: totals.other, lost: totals.lost }).toEqual({ dropped: 0, other: 0, lost: 0 });
    expect(totals.registered).toBeGreaterThan(0);
  });
});
