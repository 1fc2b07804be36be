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
  /** The logged-in user, when the caller presented a valid session token. */
  readonly userId?: number;
  /** The caller's session token (never logged). */
  readonly token?: string;
  /**
   * Called by login Types once the WeChat identity behind a code is known, so the front
   * door can apply per-identity rate limits. Throws or rejects (RATE_LIMITED) to refuse the
   * call; returns a promise only when its limit's store is asynchronous (shared).
   */
  readonly onIdentity?: (identity: { appId: string; openId: string }) => void | Promise<void>;
}

const storage = new AsyncLocalStorage<CallContext>();

export function runWithCallContext<T>(context: CallContext, fn: () => T): T {
  return storage.run(context, fn);
}

export function currentCallContext(): CallContext | undefined {
  return storage.getStore();
}
