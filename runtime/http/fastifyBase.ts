import Fastify, { LogController, type FastifyInstance, type FastifyServerFactory } from "fastify";
import { clientErrorHandler, makeErrorHandler, sendClosing } from "./errors.ts";
import { accessLine, fastifyLoggerOptions, lazyChildLoggerFactory, logStream, type HttpLogOptions } from "./logging.ts";
import type { FamilySecrets } from "../family/types.ts";
import type { Linger } from "./lingeringClose.ts";
import type { HttpLimits } from "./options.ts";
import type { ServerTimeouts } from "./timeouts.ts";
import { requestIdGenerator } from "./trust.ts";

/**
 * What every Fastify instance of one server shares: the shell that listens (health, docs,
 * console) and each app version's instance (its /api routes, see appServer.ts). One closing
 * flag for all, so a request reaching any of them while the server stops gets SERVER_CLOSING.
 */
export interface ServerBase {
  limits: HttpLimits;
  timeouts: ServerTimeouts;
  logOptions: HttpLogOptions | null;
  /** What the served apps' families redact in log lines. */
  secrets: readonly FamilySecrets[];
  trustProxy: ReturnType<typeof import("./trust.ts").compileTrustProxy>;
  closing: boolean;
  /** Sockets answered before their body arrived close lingering (lingeringClose.ts). */
  linger: Linger;
}

/**
 * A Fastify instance with the server's settings, hooks, error envelope and JSON parser.
 * `logger`: the shell makes the pino logger; app instances log through the shell's, so a
 * reload makes no new logger or stream. `serverFactory`: the shell's builds the listening
 * server; an app instance's returns a server that never listens (requests reach it through
 * `routing`, see server.ts).
 */
export function newFastify(base: ServerBase, init: { loggerInstance?: FastifyInstance["log"]; serverFactory: FastifyServerFactory }): FastifyInstance {
  const { limits, timeouts, logOptions, trustProxy } = base;
  const errorHandler = makeErrorHandler(limits.bodyLimit);
  const logging = logOptions
    ? {
        ...(init.loggerInstance ? { loggerInstance: init.loggerInstance as never } : { logger: fastifyLoggerOptions(logOptions, base.secrets) }),
        // Only over a real logger: with logging off Fastify's stand-in has no isLevelEnabled.
        childLoggerFactory: lazyChildLoggerFactory as never,
      }
    : { logger: false };
  const server = (Fastify as unknown as (options: object) => FastifyInstance)({
    ...logging,
    serverFactory: init.serverFactory,
    bodyLimit: limits.bodyLimit,
    connectionTimeout: timeouts.connectionTimeoutMs,
    keepAliveTimeout: timeouts.keepAliveTimeoutMs,
    requestTimeout: timeouts.requestTimeoutMs,
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
  server.addHook("onRequest", (request, reply, done) => {
    if (base.closing) {
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
  server.addHook("onSend", (request, reply, payload, done) => {
    // Answers carry codes and tokens (and errors about them): no cache may keep a copy.
    reply.header("cache-control", "no-store");
    if (base.closing) reply.header("connection", "close");
    // Answered before the body arrived (413, a 429 before the body): the connection ends
    // with this answer, but the client is still sending, so the socket must not close
    // under it (lingeringClose.ts).
    if (!request.raw.complete) {
      reply.header("connection", "close");
      base.linger.arm(request.raw.socket);
    }
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
  return server;
}
