import type { App } from "../app/App.ts";
import { isJitError } from "../errors/index.ts";
import type { AppStatus } from "../http/types.ts";
import type { Database } from "../database/types.ts";

/**
 * Puts a new version of an app in place after its files changed (`jit dev`):
 *
 * 1. load the app again from disk (every declaration validated, changed modules imported
 *    afresh: loadApp `reloadable`);
 * 2. run the reload steps (below) against the app's open database;
 * 3. the new version adopts the old one's database and master key (App.adopt: not reopened,
 *    so sessions and data stay) and the server switches to it between two requests.
 *
 * Any problem in 1 or 2 keeps the last good version serving; the problems are reported (each
 * with file and JSON path) and stay on the app's status, shown by the console, until a later
 * change loads cleanly. Reloads of one app run one at a time; changes saved meanwhile are
 * taken by one more reload once the running one ends.
 *
 * An app that did not load at start has no version yet: a reload loads it and, once it loads
 * cleanly, `add` serves it (no reload steps: there is no previous version to migrate from).
 */

/**
 * A step run before a new version takes requests, with the database both versions share.
 * A step that throws keeps the old version serving, its error reported like a declaration
 * problem. This is where a family hooks in work a changed declaration needs done in the
 * database first: a model family's safe migration steps, refusing (throwing) on unsafe ones.
 * Steps use `database` (the app's default database handle, runtime/database/types.ts), never
 * `next.getDatabase()`, which would open a second connection before the new version adopts.
 */
export type ReloadStep = (change: { previous: App; next: App; database: Database }) => Promise<void>;

export interface ReloadProblem {
  code: string;
  message: string;
  file?: string;
  pointer?: string;
}

export type ReloadEvent =
  | { kind: "reloaded"; appId: string; version: number; ms: number; fixed: boolean }
  | { kind: "refused"; appId: string; version: number; problems: ReloadProblem[] };

export interface ReloaderOptions {
  apps: App[];
  /** Apps that did not load at start: served (`add`) once a change makes them load. */
  pending?: Array<{ appId: string; problems: ReloadProblem[] }>;
  /** Loads the app again from disk (loadApp with the same options and `reloadable`). */
  load(appId: string): Promise<App>;
  /** Serves the new version from the next request on (Serving.replace). */
  replace(app: App): Promise<void>;
  /** Serves an app that had no version yet (Serving.add). */
  add?(app: App): Promise<void>;
  /** Shown by the console (AppHost.setStatus). */
  setStatus?(appId: string, status: AppStatus): void;
  steps?: ReloadStep[];
  report(event: ReloadEvent): void;
}

interface Slot {
  appId: string;
  /** Null until an app that did not load at start loads. */
  app: App | null;
  version: number;
  broken: boolean;
  running: Promise<void> | null;
  again: boolean;
}

export function problemsOf(err: unknown): ReloadProblem[] {
  if (isJitError(err)) {
    if (err.problems.length > 0) {
      return err.problems.map((p) => ({ code: p.code, message: p.message, ...(p.file ? { file: p.file } : {}), ...(p.pointer !== undefined ? { pointer: p.pointer } : {}) }));
    }
    return [{ code: err.code, message: err.message }];
  }
  // Not one of ours (a Type's constructor threw, say): its message only, never a stack.
  return [{ code: "INTERNAL_ERROR", message: err instanceof Error ? err.message : String(err) }];
}

export class Reloader {
  readonly #options: ReloaderOptions;
  readonly #slots = new Map<string, Slot>();

  constructor(options: ReloaderOptions) {
    this.#options = options;
    for (const app of options.apps) this.#slots.set(app.appId, { appId: app.appId, app, version: 1, broken: false, running: null, again: false });
    for (const { appId } of options.pending ?? []) this.#slots.set(appId, { appId, app: null, version: 0, broken: true, running: null, again: false });
  }

  /** The version serving now; undefined while the app has never loaded. */
  current(appId: string): App | undefined {
    return this.#slot(appId).app ?? undefined;
  }

  /** Reloads the app; resolves once it reflects every change saved before the call. */
  reload(appId: string): Promise<void> {
    const slot = this.#slot(appId);
    if (slot.running) {
      slot.again = true;
      return slot.running;
    }
    slot.running = (async () => {
      do {
        slot.again = false;
        await this.#reloadOnce(slot);
      } while (slot.again);
      slot.running = null;
    })();
    return slot.running;
  }

  #slot(appId: string): Slot {
    const slot = this.#slots.get(appId);
    if (!slot) throw new TypeError(`app ${appId} is not served here`);
    return slot;
  }

  async #reloadOnce(slot: Slot): Promise<void> {
    const { appId } = slot;
    const started = performance.now();
    let next: App | undefined;
    let adopted = false;
    try {
      next = await this.#options.load(appId);
      const previous = slot.app;
      if (previous) {
        const steps = this.#options.steps ?? [];
        if (steps.length > 0) {
          const database = await previous.getDatabase();
          for (const step of steps) await step({ previous, next, database });
        }
        next.adopt(previous);
        adopted = true;
        await this.#options.replace(next);
      } else {
        if (!this.#options.add) throw new TypeError(`app ${appId} cannot be added to the server`);
        await this.#options.add(next);
      }
    } catch (err) {
      // Not adopted, it opened nothing the serving version uses, and closing it leaves that
      // version untouched (a first version refused by the server closes what it opened).
      // Adopted (the server refused its routes), it holds the database the serving version
      // reaches through it, so it stays open.
      if (next && !adopted) await next.close().catch(() => undefined);
      const problems = problemsOf(err);
      slot.broken = true;
      this.#options.setStatus?.(appId, { problems, since: Date.now() });
      this.#options.report({ kind: "refused", appId, version: slot.version, problems });
      return;
    }
    const fixed = slot.broken;
    slot.app = next;
    slot.version += 1;
    slot.broken = false;
    this.#options.setStatus?.(appId, { problems: [] });
    this.#options.report({ kind: "reloaded", appId, version: slot.version, ms: performance.now() - started, fixed });
  }
}
