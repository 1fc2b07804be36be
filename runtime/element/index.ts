/**
 * `jit-runtime/element`: the one door through which element code reaches the runtime. The
 * platform's own elements import it exactly as an app author's Type or family does, so any
 * element folder can be copied into an app as is. What is not exported here is the
 * runtime's own business (ARCHITECTURE.md, "Layers").
 */
export { ElementBase, type ElementClass, type ElementInit, type TypeFactory } from "./ElementBase.ts";
export type * from "./types.ts";
export * from "../errors/index.ts";
export { systemClock, ManualClock, type Clock } from "../clock.ts";
export { currentCallContext, runWithCallContext, type CallContext } from "../context/callContext.ts";
export { rowData, isRowData, type RowData, type Field } from "../datatypes/RowData.ts";
export { memoizeSuccess } from "../memo.ts";
export { parsePreviousMasterKeys } from "../security/masterKey.ts";
export { hashToken, newSecretToken, safeEqual, secureRandomBytes } from "../security/tokens.ts";
export type { Logger } from "../logging/logger.ts";
// The database handle a family keeps its data on (docs/databases.md). Values load no driver:
// a dialect's module is imported when a database of that dialect is opened.
export type * from "../database/types.ts";
export type { SqliteDatabase } from "../database/sqlite/SqliteDatabase.ts";
export type { SqliteOpenOptions, SqliteWriter } from "../database/sqlite/open.ts";
export type { PostgresDatabase, PostgresTransaction } from "../database/postgres/PostgresDatabase.ts";
export { openDatabase, databaseLabel, type OpenDatabaseOptions } from "../database/open.ts";
export { provideStore, type AppStore, type StoreOpener } from "../database/stores.ts";
export { sqlState, toStoreError } from "../database/postgres/errors.ts";
export {
  defineFamily,
  type ConsoleKit,
  type FamilyConsole,
  type FamilyDefinition,
  type FamilySecrets,
  type KeyedLimit,
  type SessionCaller,
} from "../family/types.ts";
/** Types of the console's browser kit, for a family's console tabs (FamilyConsole). */
export type { ConsoleTab, ConsoleTabs, ConsoleUiKit } from "../family/consoleUi.ts";
