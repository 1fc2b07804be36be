import { provideStore } from "jit-runtime/element";
import { openLoginStore } from "./openStore.ts";

/**
 * The login family's data: its schema (migrations/), its statements per dialect (sqlite/,
 * postgres/) and the Store its Types call. The family offers the store App.getStore()
 * returns, on the app's default database.
 */
export type * from "./Store.ts";
export { openLoginStore, openStore } from "./openStore.ts";
export { storeOf } from "./storeOf.ts";

provideStore("auths", openLoginStore);
