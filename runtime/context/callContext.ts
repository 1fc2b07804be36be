import { AsyncLocalStorage } from "node:async_hooks";

/**
 * Who is calling an element function, when the call comes from outside (HTTP, CLI).
 * Trusted server code that calls elements directly runs with no call context.
 */
export interface CallContext {
  /** "http" | "cli" | other front doors. */
  readonly via: string;
  readonly requestId?: string;
  readonly ip?: string;
  /** The logged-in user, when the caller presented a valid session token (the family's session lookup said who). */
  readonly userId?: number;
  /** The organisation the logged-in user's session acts for, when it has one. */
  readonly corpId?: string | null;
  /** The caller's session token (never logged). */
  readonly token?: string;
  /**
   * Counts one hit of `key` against the per-key limit `name` that a family declared
   * (FamilyDefinition.limits), e.g. once the external identity behind a credential is known.
   * Throws or rejects (RATE_LIMITED) to refuse the call; returns a promise only when the
   * limit's store is asynchronous (shared). Absent, or a no-op, when the limit is off.
   */
  readonly limit?: (name: string, key: string) => void | Promise<void>;
}

/**
 * One store per process, shared by every copy of this module (Symbol.for is process-wide): an
 * app's code may load another copy of the runtime than the server's (a Type in a CommonJS
 * folder gets its own compiled copy of `jit-runtime/element`), and it must still read the
 * context the server set.
 */
const STORE = Symbol.for("jit-runtime.callContext");
const storage: AsyncLocalStorage<CallContext> = ((globalThis as Record<symbol, unknown>)[STORE] ??= new AsyncLocalStorage<CallContext>()) as AsyncLocalStorage<CallContext>;

export function runWithCallContext<T>(context: CallContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}

/** Who is calling, as element code sees it: `currentUser()`. */
export interface CurrentUser {
  readonly userId: number;
  readonly corpId: string | null;
}

/**
 * The logged-in user of the call running now (an HTTP request with a session token, `jit
 * call --as`, `runAs`), or undefined for an anonymous call and for trusted code outside any
 * call. It reads the call context, so it works in any element code the call reaches.
 */
export function currentUser(): CurrentUser | undefined {
  const context = storage.getStore();
  if (context?.userId === undefined) return undefined;
  return { userId: context.userId, corpId: context.corpId ?? null };
}

/**
 * Runs `fn` as the given user, for scripts and tests: element code inside sees them through
 * currentUser(). The caller vouches for the user id; no session is checked.
 */
export function runAs<T>(userId: number, fn: () => T, options: { corpId?: string | null } = {}): T {
  if (!Number.isSafeInteger(userId)) throw new TypeError(`runAs needs an integer user id, not ${typeof userId}`);
  return storage.run({ via: "script", userId, corpId: options.corpId ?? null }, fn);
}
