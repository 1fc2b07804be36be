import type { AppStore } from "jit-runtime/element";
import type { Store } from "./Store.ts";

/** The app's store as the login family types it (the family provides it: ./index.ts). */
export async function storeOf(app: { getStore(): Promise<AppStore> }): Promise<Store> {
  return (await app.getStore()) as Store;
}
