export { createServer, type CreateServerOptions } from "./server.ts";
export { installGracefulShutdown, type ShutdownOptions } from "./shutdown.ts";
export { resolveLimits, resolveTrustProxy, parseRate, DEFAULT_LIMITS, type HttpLimits, type Rate } from "./options.ts";
export { serveApp, type ServeOptions, type Serving } from "./listen.ts";
export { elementPath } from "./routes.ts";
export { MemoryRateStore, type RateStore, type WindowCount } from "./rateStore.ts";
export type { LimitName } from "./rateLimit.ts";
export type { ServedApp, Caller } from "./types.ts";
export { startPurging, resolvePurgeInterval, DEFAULT_PURGE_INTERVAL_MS, type Purger, type PurgeCounts } from "./purge.ts";
