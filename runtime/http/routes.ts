import type { FastifyInstance, onRequestHookHandler } from "fastify";
import { runWithCallContext, type CallContext } from "../context/callContext.ts";
import type { ElementDefine, FunctionDecl, RateLimitName } from "../element/types.ts";
import { ElementError, HttpError, SessionError, type JitError } from "../errors/index.ts";
import { bearerToken } from "./auth.ts";
import { bodySchema, positionalArgs } from "./schema.ts";
import type { Caller, ServedApp } from "./types.ts";

/**
 * One route per declared function of every callable element:
 * `POST /api/<appId>/<fullName with . → />/<function>`. Only functionList entries are
 * reachable; everything else falls to the not-found classifier below.
 */

export interface RouteDeps {
  app: ServedApp;
  resolveSession: (token: string, requestId: string) => Promise<Caller>;
  /** Per-IP limit hook, shared by the functions that declare "ip"; null when off. */
  ipRateHook: onRequestHookHandler | null;
  /** Per-user limit, for the functions that declare "user"; throws RATE_LIMITED. */
  limitUser?: (userId: number) => void | Promise<void>;
  /** The families' per-key limits, which their elements apply through the call context. */
  limit?: CallContext["limit"];
}

export function elementPath(appId: string, fullName: string): string {
  return `/api/${appId}/${fullName.split(".").join("/")}`;
}

/** The declared functions HTTP may reach (not those declaring `"http": false`). */
export function servedFunctions(define: ElementDefine): FunctionDecl[] {
  return (define.functionList ?? []).filter((decl) => decl.http !== false);
}

/** Instances that are not private, with at least one function served over HTTP. */
export function servedElements(app: ServedApp): ElementDefine[] {
  const listed = app.listElements?.() ?? [];
  const defines = listed.map((entry) => (typeof entry === "string" ? app.getElementDefine(entry) : entry));
  return defines.filter((d) => d.kind === "instance" && d.accessModifier !== "private" && servedFunctions(d).length > 0);
}

/** The limits a function declares, else the default: per IP for login functions, none for the others. */
export function rateLimitsOf(decl: FunctionDecl): ReadonlySet<RateLimitName> {
  return new Set(decl.rateLimit ?? (decl.loginRequired === 0 ? ["ip"] : []));
}

function guardUserId(decl: FunctionDecl, body: Record<string, unknown>, caller: Caller): void {
  // Over HTTP a logged-in user acts on themself only; trusted server code calls elements directly.
  if (body.userId !== undefined && body.userId !== caller.userId) {
    throw new SessionError("FORBIDDEN", { reason: `over HTTP, ${decl.name} acts on the logged-in user only: userId must be your own` });
  }
}

export function registerFunctionRoutes(server: FastifyInstance, deps: RouteDeps): number {
  const { app } = deps;
  let count = 0;
  for (const define of servedElements(app)) {
    let element: Record<string, unknown> | undefined;
    for (const decl of servedFunctions(define)) {
      const loginRequired = decl.loginRequired !== 0;
      const limits = rateLimitsOf(decl);
      const limitUser = limits.has("user") ? deps.limitUser : undefined;
      server.route<{ Body: Record<string, unknown> }>({
        method: "POST",
        url: `${elementPath(app.appId, define.fullName)}/${decl.name}`,
        schema: { body: bodySchema(decl) },
        // Before the body is read: a refused request costs no parsing.
        onRequest: limits.has("ip") && deps.ipRateHook ? deps.ipRateHook : undefined,
        // A function without arguments may be called with no body at all.
        preValidation: (request, _reply, done) => {
          if (request.body === undefined || request.body === null) request.body = {};
          done();
        },
        handler: async (request) => {
          let token: string | null = null;
          try {
            token = bearerToken(request.headers.authorization);
          } catch (err) {
            // A stale or odd header must not stop anyone from logging in again.
            if (loginRequired) throw err;
          }
          let caller: Caller | undefined;
          if (loginRequired) {
            if (token === null) throw new SessionError("LOGIN_REQUIRED");
            caller = await deps.resolveSession(token, request.id);
            guardUserId(decl, request.body, caller);
            // Before the function runs: a refused call spends no upstream quota.
            if (limitUser) await limitUser(caller.userId);
          }
          element ??= app.getElement<Record<string, unknown>>(define.fullName);
          const fn = element[decl.name];
          if (typeof fn !== "function") throw new ElementError("FUNCTION_NOT_FOUND", { fullName: define.fullName, function: decl.name });
          const context: CallContext = {
            via: "http",
            requestId: request.id,
            ip: request.ip,
            ...(caller ? { userId: caller.userId, corpId: caller.corpId } : {}),
            ...(token !== null ? { token } : {}),
            ...(deps.limit ? { limit: deps.limit } : {}),
          };
          const result = await runWithCallContext(context, () => fn.apply(element, positionalArgs(decl, request.body)));
          return { data: result === undefined ? null : result };
        },
      });
      count += 1;
    }
  }
  return count;
}

const SAFE_SEGMENT = /^[A-Za-z0-9_$-]{1,100}$/;

/** Why a request matched no route: unknown element, undeclared function, or no such route at all. */
export function makeClassifier(app: ServedApp, defines: ElementDefine[]) {
  const byName = new Map(defines.map((d) => [d.fullName, d]));
  return (method: string, path: string): JitError => {
    // The path is client input: the registry quotes and cuts it (ROUTE_NOT_FOUND's `input`).
    const route = () => new HttpError("ROUTE_NOT_FOUND", { method, url: path });
    // Routes are exact (no trailing-slash folding): ".../someFunction/" or "//" is no route,
    // not a function of an element with a misleading name.
    if (!path.startsWith("/") || path.endsWith("/") || path.includes("//")) return route();
    const segments = path.slice(1).split("/");
    if (method !== "POST" || segments[0] !== "api" || segments[1] !== app.appId || segments.length < 4) return route();
    const names = segments.slice(2);
    if (!names.every((s) => SAFE_SEGMENT.test(s))) return route();
    const fullName = names.slice(0, -1).join(".");
    const define = byName.get(fullName);
    if (define) return new ElementError("FUNCTION_NOT_FOUND", { fullName, function: names[names.length - 1]! });
    if (byName.has(names.join("."))) return route(); // element path without a function
    return new ElementError("ELEMENT_NOT_FOUND", { fullName, suggestion: "" });
  };
}
