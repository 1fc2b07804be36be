import { expect } from "vitest";
import { VaultError, type JitError } from "../../runtime/errors/index.ts";

/** Runs fn, expects it to throw a VaultError synchronously, and returns that error. */
export function vaultError(fn: () => unknown): JitError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(VaultError);
    return err as JitError;
  }
  throw new Error("expected a VaultError");
}

/** Awaits a promise that must reject, and returns what it rejected with. */
export async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}
