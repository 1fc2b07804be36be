import type { AppStore } from "jit-runtime/element";
import type { Store } from "./Store.ts";

/**
 * The app's store as the login family types it (the family provides it: ./index.ts). Not an
 * async function: the login path calls it on every request, and an async wrapper would add a
 * promise and a tick to each call (each one hooked by AsyncLocalStorage on Node 20).
 */
export function storeOf(app: { getStore(): Promise<AppStore> }): Promise<Store> {
  return app.getStore() as Promise<Store>;
}
