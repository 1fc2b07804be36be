import { StoreError } from "../errors/index.ts";
import type { Database } from "./types.ts";

/**
 * What the runtime itself asks of the store a family keeps on an app's database: that it
 * answers and closes. Everything else about it (its tables, its methods) is the family's;
 * the family's own code types it (with a helper of its own that casts getStore()'s answer).
 *
 * The HTTP layer uses two optional, family-neutral abilities when a store has them: shared
 * rate-limit windows and a periodic purge of expired rows.
 */
export interface AppStore {
  ping(): Promise<void>;
  close(): Promise<void>;
  hitRateWindow?(key: string, windowMs: number, now: number): Promise<{ count: number; resetAt: number }>;
  purgeExpired?(now: number): Promise<Record<string, number>>;
}

export type StoreOpener = (db: Database) => Promise<AppStore>;

let provided: { owner: string; open: StoreOpener } | null = null;

/**
 * A family offers the store that `App.getStore()` returns, opened on the app's default
 * database (the family migrates its own tables there). Called when the family's code loads;
 * the same owner may call it again (a module loaded twice), another owner replaces it only
 * when none was given yet.
 */
export function provideStore(owner: string, open: StoreOpener): void {
  if (provided && provided.owner !== owner) {
    throw new TypeError(`the app store is already provided by ${provided.owner}; ${owner} cannot provide another`);
  }
  provided = { owner, open };
}

/** The provided store opened on `db`; STORE_OPEN_FAILED when no loaded family provides one. */
export async function openProvidedStore(db: Database): Promise<AppStore> {
  if (!provided) throw new StoreError("STORE_OPEN_FAILED", { file: db.label, reason: "no element family keeps a store on this database (none was loaded)" });
  return provided.open(db);
}
