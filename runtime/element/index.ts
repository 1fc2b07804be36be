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
export type * from "../storage/Store.ts";
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
