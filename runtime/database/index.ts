/** The database handle: see types.ts for the contract and docs/databases.md for the guide. */
export type * from "./types.ts";
export { openDatabase, databaseLabel, type OpenDatabaseOptions } from "./open.ts";
export { resolveDatabase, resolveDbFile, hasScheme } from "./location.ts";
export { provideStore, openProvidedStore, type AppStore } from "./stores.ts";
