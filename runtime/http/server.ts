import Fastify, { LogController, type FastifyInstance } from "fastify";
import { makeSessionResolver } from "./auth.ts";
import { clientErrorHandler, makeErrorHandler, makeNotFoundHandler, sendClosing } from "./errors.ts";
import { registerConsole, type ConsoleOptions } from "./console/index.ts";
import { registerApiDocs } from "./docs.ts";
import { healthHandler } from "./health.ts";
import { accessLine, fastifyLoggerOptions, lazyChildLoggerFactory, logStream, type HttpLogOptions } from "./logging.ts";
import { resolveLimits, resolveTrustProxy, type HttpLimits } from "./options.ts";
import { createLimiters, type LimitName } from "./rateLimit.ts";
import type { RateStore } from "./rateStore.ts";
import { makeClassifier, registerFunctionRoutes, servedElements } from "./routes.ts";
import { resolveTimeouts, TIMEOUT_CHECK_INTERVAL_MS, type ServerTimeouts } from "./timeouts.ts";
import { compileTrustProxy, requestIdGenerator } from "./trust.ts";
import type { ServedApp } from "./types.ts";

export interface CreateServerOptions {
  app: ServedApp;
  /** Log options, or false for no logs. Default: JSON lines on stderr at JIT_LOG_LEVEL/info. */
  logger?: HttpLogOptions | false;
  /** Limits; unset fields come from the environment, then the defaults (options.ts). */
  limits?: Partial<HttpLimits>;
  /** Unset fields come from the environment, then DEFAULT_TIMEOUTS (timeouts.ts). */
  timeouts?: Partial<ServerTimeouts>;
  /** See resolveTrustProxy; default from JIT_TRUST_PROXY. */
  trustProxy?: boolean | string[];
  /** Time source of the rate limits (tests). */
  now?: () => number;
  /**
   * The store of each rate limit; default one bounded in-memory store per limit
   * (rateStore.ts). A store shared by several processes plugs in here.
   */
  rateStore?: (limit: LimitName) => RateStore;
  env?: Readonly<Record<string, string | undefined>>;
  /** Serve the interactive API page at /docs (GET /openapi.json is always served). */
  docs?: boolean;
  /** Serve the browser console at /console (off by default; see console/index.ts). */
  console?: ConsoleOptions;
}

/**
 * The HTTP API of one app. The caller listens and closes; closing the server does not close
 * the app (see shutdown.ts for the order on SIGTERM).
 */
export async function createServer(options: CreateServerOptions): Promise<FastifyInstance> {
  const { app } = options;
  const declaredLimits = Object.assign({}, ...(app.families?.list ?? []).map((family) => family.definition.limits ?? {}));
  const limits = resolveLimits(options.limits, options.env, declaredLimits);
  const timeouts = resolveTimeouts(options.timeouts, options.env);
  const errorHandler = makeErrorHandler(limits.bodyLimit);
  const logOptions = options.logger === false ? null : (options.logger ?? {});
  const trustProxy = compileTrustProxy(options.trustProxy ?? resolveTrustProxy((options.env ?? process.env).JIT_TRUST_PROXY));
  const server = Fastify({
    logger: logOptions ? fastifyLoggerOptions(logOptions, app.families?.secrets) : false,
    // Only over a real logger: with logging off Fastify's stand-in has no isLevelEnabled.
    ...(logOptions ? { childLoggerFactory: lazyChildLoggerFactory as never } : {}),
    bodyLimit: limits.bodyLimit,
    connectionTimeout: timeouts.connectionTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
    http: { headersTimeout: timeouts.headersTimeoutMs, requestTimeout: timeouts.requestTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
    genReqId: requestIdGenerator(trustProxy),
    // One line per request (onResponse below) instead of Fastify's two.
    logController: new LogController({ disableRequestLogging: true }),
    // Bad URLs and unparseable requests get our envelope, not Fastify's (which echoes the URL).
    frameworkErrors: errorHandler,
    clientErrorHandler,
    // Reject, do not repair: unknown keys and wrong types are the client's bug (ARCHITECTURE.md, "Pitfalls").
    ajv: { customOptions: { removeAdditional: false, coerceTypes: false, useDefaults: false, allErrors: true } },
    // Off: Fastify's 503 has its own raw body and no request id; the onRequest hook below
    // answers SERVER_CLOSING in our envelope instead.
    return503OnClosing: false,
    trustProxy,
    forceCloseConnections: "idle",
    routerOptions: { ignoreTrailingSlash: false, maxParamLength: 200 },
  });

  // Hooks on every request are callback-style, not async: an async hook costs a promise (and
  // its async-context propagation) per request for nothing.
  // While closing, answers to in-flight requests end their keep-alive connection: otherwise
  // close() would wait for the clients' idle sockets (idle ones are closed at close time only).
  // Requests that still arrive (keep-alive, pipelined) are refused with SERVER_CLOSING.
  let closing = false;
  server.addHook("preClose", async () => {
    closing = true;
  });
  server.addHook("onRequest", (request, reply, done) => {
    if (closing) {
      sendClosing(request, reply);
      return;
    }
    reply.header("x-request-id", request.id);
    done();
  });
  if (logOptions) {
    const stream = logStream(logOptions);
    const log = server.log as unknown as { isLevelEnabled(level: string): boolean };
    server.addHook("onResponse", (request, reply, done) => {
      if (log.isLevelEnabled("info")) stream.write(accessLine(request, reply.statusCode, reply.elapsedTime, Date.now()));
      done();
    });
  }
  server.addHook("onSend", (_request, reply, payload, done) => {
    // Answers carry codes and tokens (and errors about them): no cache may keep a copy.
    reply.header("cache-control", "no-store");
    if (closing) reply.header("connection", "close");
    done(null, payload);
  });
  server.setErrorHandler(errorHandler);
  // Fastify's JSON parser (prototype-poisoning checks kept), except that an empty body is
  // allowed: functions without arguments may be called with no body whatever the client's headers.
  const json = server.getDefaultJsonParser("error", "error");
  server.removeContentTypeParser("application/json");
  server.addContentTypeParser("application/json", { parseAs: "string" }, (request, body, done) => {
    if (body.length === 0) done(null, undefined);
    else json(request, body as string, done);
  });

  const limiters = await createLimiters(server, limits, options);

  server.get("/healthz", healthHandler(app));
  await registerApiDocs(server, app, { docs: options.docs === true });
  if (options.console) await registerConsole(server, app, { env: options.env ?? process.env, ...options.console });

  const defines = servedElements(app);
  registerFunctionRoutes(server, {
    app,
    resolveSession: makeSessionResolver(app),
    ...limiters,
  });
  server.setNotFoundHandler(makeNotFoundHandler(makeClassifier(app, defines)));
  await server.ready();
  return server;
}
