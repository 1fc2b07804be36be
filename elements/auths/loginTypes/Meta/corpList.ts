import type { CorpRef } from "./types.ts";
import type { Store } from "../../storage/Store.ts";

/**
 * A user's organisations as every login result shows them: exactly `{ corpId, corpName }`,
 * picked field by field so a store that returns more never widens a response.
 */
export async function corpListOf(store: Pick<Store, "listUserCorps">, userId: number): Promise<CorpRef[]> {
  return (await store.listUserCorps(userId)).map(({ corpId, corpName }) => ({ corpId, corpName }));
}
