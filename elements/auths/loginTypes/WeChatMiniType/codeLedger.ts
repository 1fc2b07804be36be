import { randomUUID } from "node:crypto";
import { setTimeout as sleep } from "node:timers/promises";
import { type Clock, hashToken } from "jit-runtime/element";
import { WeChatApiError } from "./wechat/errors.ts";
import type { Store } from "../../storage/Store.ts";

/** A wx.login code lives 5 minutes: the ledger remembers it that long after its last run. */
export const CODE_TTL_MS = 300_000;

/**
 * One wx.login code, one WeChat exchange, one use, across every process on the database.
 *
 * WeChat exchanges a code once (a second exchange gives 40163). The ledger keeps, per code
 * (by its SHA-256; never in clear), in the store's `wx_codes` table:
 * - the use that owns it: any other use (getLoginCode vs bind, or a bind for another user) is
 *   refused with WECHAT_CODE_USED, the answer WeChat itself gives a second exchange;
 * - where its run stands. The first caller anywhere claims it (one guarded upsert) and runs;
 *   callers in the same process share that run's promise; callers in other processes poll
 *   the entry with a short backoff until it is settled. A claim holds a lease (the exchange's
 *   timeout plus a margin): when its process dies, the next caller of the same use takes the
 *   code over after the lease, so a code never stays stuck;
 * - how the run ended. A result that `keep` accepts is stored sealed by the vault and is the
 *   answer to every repeat of the same use for 5 minutes (getLoginCode's login code: the
 *   login code is single use, so one session at most comes of it). A result `keep` refuses
 *   spends the code: repeats are WECHAT_CODE_USED (getLoginCode's bind code, so a replayer
 *   never gets it and can never register its owner's identity first). A failure that
 *   `retryable` accepts (WeChat never named the user) leaves the code open for another try of
 *   the same use; any other failure spends it.
 */
export interface ClaimOptions<T> {
  /** Whether a result is the answer to repeats (kept sealed); otherwise repeats are WECHAT_CODE_USED. */
  keep: (result: T) => boolean;
  /** Which failures leave the code open for another try of the same use. */
  retryable: (error: unknown) => boolean;
}

/**
 * A run's result whose own writes are queued in the store but not yet durable. Where the
 * store commits the writes of one turn together (Store.commitsTurnTogether: SQLite), the
 * ledger queues its record of the outcome in the same turn, so one commit (one fsync) holds
 * both and no reader sees one without the other; elsewhere it waits for the run's writes
 * first. The caller hears the result once both are durable. Should the run's writes fail
 * after the record committed (a unit of the batch failing alone), a repeat is answered with
 * a login code that was never stored (LOGIN_CODE_INVALID at loginByCode): refused, as the
 * policy above wants for a failure after WeChat named the user.
 */
export class Unwritten<T> {
  constructor(
    readonly value: T,
    /** Settles when the run's writes are durable; must not be left unobserved by whoever made it. */
    readonly written: Promise<unknown>,
  ) {}
}

export interface LedgerDeps {
  appId: string;
  clock: Clock;
  /** How long a claim may run before another caller may take it over. */
  leaseMs: number;
  store: () => Promise<Pick<Store, "claimWxCode" | "settleWxCode" | "commitsTurnTogether">>;
  seal: () => Promise<{ sealText(appId: string, slot: string, text: string): string; openText(appId: string, slot: string, sealed: string): string }>;
}

/** A run: its result, or its result with its writes still committing (Unwritten). */
export type ClaimRun<T> = () => Promise<T | Unwritten<T>>;

export interface CodeLedger {
  claim<T>(code: string, use: string, run: ClaimRun<T>, options: ClaimOptions<T>): Promise<T>;
}

/** The run of one claim in this process: the callers that share it learn how it ended. */
type Shared = { use: string; done: Promise<{ ok: true; value: unknown; kept: boolean } | { ok: false; error: unknown; retryable: boolean }> };

const FIRST_POLL_MS = 5;
const MAX_POLL_MS = 100;

const used = () => new WeChatApiError("WECHAT_CODE_USED", { errcode: 40163 });

// The runs in progress in this process, by mini program and code hash: every element instance
// of a mini program shares them, as it shares the store's entries.
const processRuns = new Map<string, Shared>();

export function createCodeLedger(deps: LedgerDeps, inFlight: Map<string, Shared> = processRuns): CodeLedger {
  async function attempt<T>(hash: string, use: string, run: ClaimRun<T>, options: ClaimOptions<T>): Promise<{ value: T; kept: boolean }> {
    const store = await deps.store();
    for (let wait = FIRST_POLL_MS; ; wait = Math.min(wait * 2, MAX_POLL_MS)) {
      const now = deps.clock.now();
      const holder = randomUUID();
      const state = await store.claimWxCode(hash, { appId: deps.appId, use, holder, leaseUntil: now + deps.leaseMs, expiresAt: now + CODE_TTL_MS }, now);
      if (state.status === "claimed") return runClaimed(store, hash, holder, run, options);
      if (state.use !== use || state.status === "spent") throw used();
      if (state.status === "answered") {
        const { openText } = await deps.seal();
        return { value: JSON.parse(openText(deps.appId, hash, state.sealed)) as T, kept: true };
      }
      // Held by a run in another process (or open again an instant ago): look again shortly.
      await sleep(wait);
    }
  }

  async function runClaimed<T>(
    store: Pick<Store, "settleWxCode" | "commitsTurnTogether">,
    hash: string,
    holder: string,
    run: ClaimRun<T>,
    options: ClaimOptions<T>,
  ): Promise<{ value: T; kept: boolean }> {
    // A failure before the outcome is recorded: the caller hears it; the code is left open
    // or spent as `retryable` says (a store that fails now leaves the lease to end).
    const fail = async (error: unknown): Promise<never> => {
      await store.settleWxCode(hash, holder, { state: options.retryable(error) ? "open" : "spent" }, deps.clock.now() + CODE_TTL_MS).catch(() => false);
      throw error;
    };
    let outcome: T | Unwritten<T>;
    try {
      outcome = await run();
    } catch (error) {
      return fail(error);
    }
    const [value, written] = outcome instanceof Unwritten ? [outcome.value, outcome.written] : [outcome, null];
    // Where each write commits on its own, the record must not be readable (by a repeat in
    // another process) before the writes it speaks for exist: it waits for them.
    const sharesCommit = written !== null && store.commitsTurnTogether === true;
    if (written && !sharesCommit) await written.catch(fail);
    const kept = options.keep(value);
    const record = kept ? { state: "answered" as const, sealed: (await deps.seal()).sealText(deps.appId, hash, JSON.stringify(value)) } : { state: "spent" as const };
    // Queued in the turn the run's writes were: one commit holds both (see Unwritten).
    const settled = store.settleWxCode(hash, holder, record, deps.clock.now() + CODE_TTL_MS);
    if (sharesCommit) {
      await written.catch(async (error: unknown) => {
        await settled.catch(() => false);
        throw error;
      });
    }
    await settled;
    return { value, kept };
  }

  return {
    async claim<T>(code: string, use: string, run: ClaimRun<T>, options: ClaimOptions<T>): Promise<T> {
      const hash = hashToken(code);
      const key = `${deps.appId}\n${hash}`;
      const running = inFlight.get(key);
      if (running) {
        // Callers in this process share the run; only a kept answer is handed to more than one.
        if (running.use !== use) throw used();
        const outcome = await running.done;
        if (outcome.ok) {
          if (outcome.kept) return outcome.value as T;
          throw used();
        }
        throw outcome.retryable ? outcome.error : used();
      }
      const first = attempt(hash, use, run, options);
      const shared: Shared = {
        use,
        done: first.then(
          ({ value, kept }) => ({ ok: true as const, value, kept }),
          (error: unknown) => ({ ok: false as const, error, retryable: options.retryable(error) }),
        ),
      };
      inFlight.set(key, shared);
      void shared.done.then(() => inFlight.delete(key));
      return (await first).value;
    },
  };
}
