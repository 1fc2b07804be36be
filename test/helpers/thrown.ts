import { expect } from "vitest";
import { ConfigError, type JitError } from "../../runtime/errors/index.ts";
import { VaultError } from "../../elements/auths/loginTypes/WeChatMiniType/vault/errors.ts";

/** Runs fn, expects it to throw an error of class `cls` synchronously, and returns that error. */
function thrownSync(fn: () => unknown, cls: Function): JitError {
  try {
    fn();
  } catch (err) {
    expect(err).toBeInstanceOf(cls);
    return err as JitError;
  }
  throw new Error(`expected a ${cls.name}`);
}

export const vaultError = (fn: () => unknown) => thrownSync(fn, VaultError);
/** The master key is the runtime's configuration (MASTER_KEY_INVALID is a ConfigError). */
export const configError = (fn: () => unknown) => thrownSync(fn, ConfigError);

/** Awaits a promise that must reject, and returns what it rejected with. */
export async function thrown(promise: Promise<unknown>): Promise<unknown> {
  try {
    await promise;
  } catch (err) {
    return err;
  }
  throw new Error("expected the call to fail");
}
