import http from "node:http";
import type { FastifyInstance } from "fastify";
import { ConfigError, HttpError } from "../errors/index.ts";
import { createAppServer } from "./appServer.ts";
import { registerConsole, type ConsoleOptions } from "./console/index.ts";
import { registerApiDocs } from "./docs.ts";
import { makeNotFoundHandler } from "./errors.ts";
import { newFastify, type ServerBase } from "./fastifyBase.ts";
import { createLinger } from "./lingeringClose.ts";
import { healthHandler } from "./health.ts";
import type { HttpLogOptions } from "./logging.ts";
import { resolveLimits, resolveTrustProxy, type HttpLimits } from "./options.ts";
import type { LimitName } from "./rateLimit.ts";
import { MemoryRateStore, type RateStore } from "./rateStore.ts";
import { resolveTimeouts, TIMEOUT_CHECK_INTERVAL_MS, type ServerTimeouts } from "./timeouts.ts";
import { compileTrustProxy } from "./trust.ts";
import type { AppStatus, ServedApp } from "./types.ts";

export interface CreateServerOptions {
  /** The app to serve; or `apps` for several, each under its own `/api/<appId>/`. */
  app?: ServedApp;
  apps?: ServedApp[];
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
   * The store of each rate limit of each app; default one bounded in-memory store per limit
   * and app (rateStore.ts). A store shared by several processes plugs in here.
   */
  rateStore?: (limit: LimitName, appId: string) => RateStore;
  env?: Readonly<Record<string, string | undefined>>;
  /** Serve the interactive API page at /docs (GET /openapi.json is always served). */
  docs?: boolean;
  /** Serve the browser console at /console (off by default; see console/index.ts). */
  console?: ConsoleOptions;
}

/**
 * A server and the apps it serves. `replace` puts a new version of a served app in place
 * (`jit dev` on a saved file): requests already inside the old version finish there, the next
 * request reaches the new one, and nothing else is touched (the database, the sessions, the
 * rate-limit counts and every other app stay as they are).
 */
export interface AppHost {
  /** The instance that listens: health, OpenAPI, docs, console, and the /api dispatch. */
  server: FastifyInstance;
  /** The served versions, in the order given. */
  apps(): ServedApp[];
  replace(app: ServedApp): Promise<void>;
  /**
   * Serves one more app from the next request on (`jit dev`, an app that did not load at
   * start once fixed). Refused when its families declare secrets the server's request log
   * was not built to redact (the log's redaction is fixed when the server starts).
   */
  add(app: ServedApp): Promise<void>;
  /** What `jit dev` reports about an app (last reload's problems), shown in the console. */
  status(appId: string): AppStatus;
  setStatus(appId: string, status: AppStatus): void;
}

interface Served {
  app: ServedApp;
  routes: FastifyInstance;
}

const OK: AppStatus = Object.freeze({ problems: [] });

/** The appId segment of `/api/<appId>/…`; undefined for any other path. */
function appSegment(url: string | undefined): string | undefined {
  if (url === undefined || !url.startsWith("/api/")) return undefined;
  const end = url.indexOf("/", 5);
  return end === -1 ? undefined : url.slice(5, end);
}

const CONSOLE_API = "/console/api/";

/**
 * A console API request: the app its `?app=` names (default the first served), and its URL
 * without that parameter, which the app's own routes know nothing of. Null when `?app=`
 * names no served app.
 */
function consoleTarget(url: string, served: ReadonlyMap<string, unknown>): { appId: string; url: string } | null {
  const q = url.indexOf("?");
  if (q === -1) return { appId: served.keys().next().value as string, url };
  const params = new URLSearchParams(url.slice(q + 1));
  const appId = params.get("app");
  if (appId === null) return { appId: served.keys().next().value as string, url };
  if (!served.has(appId)) return null;
  params.delete("app");
  const rest = params.toString();
  return { appId, url: url.slice(0, q) + (rest ? `?${rest}` : "") };
}

/**
 * The HTTP API of one app or several. The caller listens and closes; closing the server does
 * not close the apps (see shutdown.ts for the order on SIGTERM).
 */
export async function createServer(options: CreateServerOptions): Promise<FastifyInstance> {
  return (await createHost(options)).server;
}

export async function createHost(options: CreateServerOptions): Promise<AppHost> {
  const initial = options.apps ?? (options.app ? [options.app] : []);
  if (initial.length === 0) throw new TypeError("createServer needs an app (or apps)");
  // The limits every served app's families declare (an app reloaded later keeps these).
  const declaredLimits = Object.assign({}, ...initial.flatMap((app) => (app.families?.list ?? []).map((family) => family.definition.limits ?? {})));
  const base: ServerBase = {
    limits: resolveLimits(options.limits, options.env, declaredLimits),
    timeouts: resolveTimeouts(options.timeouts, options.env),
    logOptions: options.logger === false ? null : (options.logger ?? {}),
    secrets: initial.flatMap((app) => app.families?.secrets ?? []),
    trustProxy: compileTrustProxy(options.trustProxy ?? resolveTrustProxy((options.env ?? process.env).JIT_TRUST_PROXY)),
    closing: false,
    linger: createLinger(),
  };
  const served = new Map<string, Served>();
  const statuses = new Map<string, AppStatus>();
  const { timeouts } = base;

  const shell = newFastify(base, {
    // Requests under a served app's /api/<appId>/ go straight to that app's current routes;
    // everything else is the shell's. Looked up per request, so a replaced app's next request
    // already reaches its new version.
    serverFactory: (shellHandler) => {
      const server = http.createServer(
        { headersTimeout: timeouts.headersTimeoutMs, requestTimeout: timeouts.requestTimeoutMs, connectionsCheckingInterval: TIMEOUT_CHECK_INTERVAL_MS },
        (req, res) => {
          const target = served.get(appSegment(req.url)!);
          if (target) return target.routes.routing(req, res);
          if (options.console && req.url?.startsWith(CONSOLE_API)) {
            const chosen = consoleTarget(req.url, served);
            if (chosen) {
              req.url = chosen.url;
              return served.get(chosen.appId)!.routes.routing(req, res);
            }
          }
          shellHandler(req, res);
        },
      );
      server.keepAliveTimeout = timeouts.keepAliveTimeoutMs;
      server.requestTimeout = timeouts.requestTimeoutMs;
      server.setTimeout(timeouts.connectionTimeoutMs);
      return server;
    },
  });
  shell.addHook("preClose", async () => {
    base.closing = true;
    base.linger.closing();
  });
  shell.addHook("onClose", async () => {
    await Promise.all([...served.values()].map((s) => s.routes.close()));
  });

  const rateStores = new Map<string, RateStore>();
  const rateStoreOf = (appId: string) => (limit: LimitName): RateStore => {
    const key = `${appId}\0${limit}`;
    let store = rateStores.get(key);
    if (!store) {
      store =
        options.rateStore?.(limit, appId) ??
        new MemoryRateStore({
          maxKeys: base.limits.rateKeys,
          ...(options.now ? { now: options.now } : {}),
          onFull: ({ keys, retryAfterMs }) =>
            shell.log.warn(
              { appId, limit, keys, retryAfterMs },
              `the ${limit} rate limit holds ${keys} limited keys: new keys are refused for ${Math.max(1, Math.ceil(retryAfterMs / 1000))} s`,
            ),
        });
      rateStores.set(key, store);
    }
    return store;
  };
  const consoleHost = { apps: () => [...served.values()].map((s) => s.app), status: (appId: string) => statuses.get(appId) ?? OK };
  const consoleOptions = options.console ? { env: options.env ?? process.env, ...options.console } : undefined;
  const build = (app: ServedApp) =>
    createAppServer(base, app, {
      ...(base.logOptions ? { log: shell.log } : {}),
      rateStore: rateStoreOf(app.appId),
      ...(consoleOptions ? { console: { options: consoleOptions, host: consoleHost } } : {}),
    });

  for (const app of initial) {
    if (served.has(app.appId)) throw new TypeError(`app ${app.appId} is given twice`);
    served.set(app.appId, { app, routes: await build(app) });
  }
  const apps = () => [...served.values()].map((s) => s.app);

  shell.get("/healthz", healthHandler({ ping: () => Promise.all(apps().map(async (app) => (await app.getStore()).ping())).then(() => undefined) }));
  const docs = await registerApiDocs(shell, apps, { docs: options.docs === true });
  if (consoleOptions) await registerConsole(shell, consoleOptions);
  // Paths under /api/ that name no served app; the apps' own instances classify the rest.
  shell.setNotFoundHandler(makeNotFoundHandler((method, url) => new HttpError("ROUTE_NOT_FOUND", { method, url })));
  await shell.ready();

  return {
    server: shell,
    apps,
    async replace(app) {
      const current = served.get(app.appId);
      if (!current) throw new TypeError(`app ${app.appId} is not served here`);
      const routes = await build(app);
      served.set(app.appId, { app, routes });
      docs.refresh();
      // Closing stops its routes from taking new requests (none reach it any more); requests
      // already inside finish, and nothing of it is referenced afterwards.
      await current.routes.close();
    },
    async add(app) {
      if (served.has(app.appId)) throw new TypeError(`app ${app.appId} is already served`);
      const known = new Set(base.secrets.map((s) => JSON.stringify(s)));
      const unknown = (app.families?.secrets ?? []).filter((s) => !known.has(JSON.stringify(s)));
      if (unknown.length > 0) {
        const names = unknown.flatMap((s) => [...(s.fields ?? []), ...(s.args ?? []), ...(s.paths ?? [])]).join(", ");
        throw new ConfigError("CONFIG_INVALID", {
          source: `app ${app.appId}`,
          reason: `its families declare secrets (${names}) the running server's request log was not started to redact; restart to serve it`,
        });
      }
      served.set(app.appId, { app, routes: await build(app) });
      docs.refresh();
    },
    status: (appId) => statuses.get(appId) ?? OK,
    setStatus(appId, status) {
      if (status.problems.length === 0) statuses.delete(appId);
      else statuses.set(appId, status);
    },
  };
}
