import http from "node:http";
import type { FastifyInstance } from "fastify";
import { makeSessionResolver } from "./auth.ts";
import { registerConsoleApiScope, type ConsoleOptions } from "./console/index.ts";
import type { ConsoleApps } from "./console/api.ts";
import { makeNotFoundHandler } from "./errors.ts";
import { newFastify, type ServerBase } from "./fastifyBase.ts";
import { createLimiters, type LimitName } from "./rateLimit.ts";
import type { RateStore } from "./rateStore.ts";
import { makeClassifier, registerFunctionRoutes, servedElements } from "./routes.ts";
import type { ServedApp } from "./types.ts";

/**
 * The routes of one version of one app, `/api/<appId>/…`, as a Fastify instance of their
 * own: the server hands it the requests under that prefix (server.ts), and a reload builds
 * the next version's instance beside it and switches over. Requests already inside this one
 * finish here; the next ones reach the new one. The rate-limit stores outlive the instance
 * (`rateStore`), so a reload does not reset anyone's counts.
 */
export async function createAppServer(
  base: ServerBase,
  app: ServedApp,
  options: {
    log?: FastifyInstance["log"];
    rateStore: (limit: LimitName) => RateStore;
    /** The console's API for this version, when the server serves the console. */
    console?: { options: ConsoleOptions; host: ConsoleApps };
  },
): Promise<FastifyInstance> {
  const server = newFastify(base, {
    ...(options.log ? { loggerInstance: options.log } : {}),
    // Never listens: the shell's server passes requests in through `routing`.
    serverFactory: (handler) => http.createServer(handler),
  });
  const limiters = await createLimiters(server, base.limits, { rateStore: options.rateStore });
  if (options.console) await registerConsoleApiScope(server, app, options.console.host, options.console.options);
  const defines = servedElements(app);
  registerFunctionRoutes(server, { app, resolveSession: makeSessionResolver(app), ...limiters });
  server.setNotFoundHandler(makeNotFoundHandler(makeClassifier(app, defines)));
  await server.ready();
  return server;
}
