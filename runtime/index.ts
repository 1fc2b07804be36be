/** The element runtime's public API. */
export { loadApp, PLATFORM, type LoadAppOptions } from "./app/loadApp.ts";
export { App } from "./app/App.ts";
export { serveApp, type ServeOptions, type Serving } from "./serve.ts";
export { ElementBase, type ElementClass, type ElementInit, type TypeFactory } from "./element/ElementBase.ts";
export type * from "./element/types.ts";
export { maskSecrets, MASK } from "./registry/define.ts";
export { parseJson } from "./registry/json.ts";
export { listAppIds } from "./registry/apps.ts";
export * from "./errors/index.ts";
export { systemClock, ManualClock, type Clock } from "./clock.ts";
export { createLogger, silentLogger, type Logger } from "./logging/logger.ts";
export type * from "./database/types.ts";
export type { AppStore } from "./database/stores.ts";
export { currentUser, runAs, type CurrentUser } from "./context/callContext.ts";
