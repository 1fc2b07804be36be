import type { App } from "../app/App.ts";
import type { AppContext } from "../element/types.ts";
import type { Logger } from "../logging/logger.ts";
import type { ReloadStep } from "./reloader.ts";

/**
 * The reload step that runs the families' start-up work (FamilyDefinition.prepare, what
 * `jit serve` runs at start) for the new version before it takes requests: a changed model's
 * safe migration steps are applied, an unsafe one throws and the last good version keeps
 * serving. Each line the hooks log at info level (what they did) goes to `done` as well.
 */
export function familiesPrepareStep(done: (appId: string, line: string) => void): ReloadStep {
  return async ({ previous, next }) => {
    await next.prepare(onServingResources(next, previous, reporting(next.logger, (line) => done(next.appId, line))));
  };
}

/**
 * The new version as the hooks see it, reaching the databases, store and master key through
 * the serving version: the new one opens nothing of its own before it adopts them (App.adopt),
 * and a refused reload leaves nothing behind.
 */
function onServingResources(next: App, previous: App, logger: Logger): AppContext {
  return new Proxy(next, {
    get(target, key) {
      if (key === "getDatabase") return (fullName?: string) => previous.getDatabase(fullName ?? target.defaultDatabase);
      if (key === "getStore") return () => previous.getStore();
      if (key === "getMasterKey") return () => previous.getMasterKey();
      if (key === "logger") return logger;
      // App keeps its state in private fields: its methods and getters run on the App itself.
      const value: unknown = Reflect.get(target, key, target);
      return typeof value === "function" ? value.bind(target) : value;
    },
  });
}

/** `logger`, with each info message also handed to `onInfo`. */
function reporting(logger: Logger, onInfo: (line: string) => void): Logger {
  return {
    debug: (obj, msg) => logger.debug(obj, msg),
    info: (obj, msg) => {
      logger.info(obj, msg);
      if (msg) onInfo(msg);
    },
    warn: (obj, msg) => logger.warn(obj, msg),
    error: (obj, msg) => logger.error(obj, msg),
    child: (bindings, options) => reporting(logger.child(bindings, options), onInfo),
  };
}
