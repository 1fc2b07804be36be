import type { FastifyInstance, FastifyRequest } from "fastify";
import { runWithCallContext } from "../../context/callContext.ts";
import { elementView } from "../../app/elementView.ts";
import { HttpError } from "../../errors/index.ts";
import { elementPath, servedElements } from "../routes.ts";
import type { ServedApp } from "../types.ts";
import { fakeWeChatBase, mintAtFake } from "./fakeWeChat.ts";
import { LoginError } from "../../../elements/auths/loginTypes/Meta/errors.ts";

/**
 * The console's JSON API under /console/api (the admin token and loopback checks run before
 * any of these, see index.ts). Reads: the element tree, users with bindings and sessions.
 * Actions: end a session, unbind an identity; each is logged with the request id. Secrets
 * stay masked (config as `jit show` prints it) and sessions are named by a hash prefix.
 */

export type ConsoleApp = ServedApp & {
  getMaskedConfig?: (fullName: string) => Record<string, unknown>;
  env?: Readonly<Record<string, string | undefined>>;
};

interface LoginElement {
  fullName: string;
  /** The WeChat AppID of the mini program. */
  wechatAppId: string;
  path: string;
  /** Where this element's WeChat calls go; the simulator may mint codes there only if it is a fake on loopback. */
  fakeBase: string | null;
}

const AUTH_SERVICE = "auths.loginTypes.services.AuthSvc";

function loginElements(app: ConsoleApp, env: Readonly<Record<string, string | undefined>>): LoginElement[] {
  const out: LoginElement[] = [];
  for (const define of servedElements(app)) {
    if (!define.functionList.some((f) => f.name === "getLoginCode")) continue;
    const auth = define.config.authConfig as { appId?: unknown; apiBase?: unknown } | undefined;
    if (typeof auth?.appId !== "string") continue;
    out.push({
      fullName: define.fullName,
      wechatAppId: auth.appId,
      path: elementPath(app.appId, define.fullName),
      fakeBase: fakeWeChatBase(typeof auth.apiBase === "string" && auth.apiBase ? auth.apiBase : env.WECHAT_API_BASE),
    });
  }
  return out;
}

const USERS_QUERY = {
  type: "object",
  properties: {
    search: { type: "string", maxLength: 200 },
    limit: { type: "string", pattern: "^[0-9]{1,3}$" },
    offset: { type: "string", pattern: "^[0-9]{1,9}$" },
  },
  additionalProperties: false,
} as const;

const USER_PARAM = { type: "object", properties: { userId: { type: "string", pattern: "^[0-9]{1,15}$" } }, required: ["userId"] } as const;

function adminLog(request: FastifyRequest, action: string, fields: Record<string, unknown>): void {
  // Request logs carry the request id; the admin token never appears (it is not a field).
  request.log.info({ admin: action, ...fields }, `console: ${action}`);
}

export function registerConsoleApi(server: FastifyInstance, app: ConsoleApp, env: Readonly<Record<string, string | undefined>>): void {
  // Where the login elements send their WeChat calls: the app's own environment first.
  const logins = loginElements(app, app.env ?? env);
  const now = () => app.clock?.now() ?? Date.now();

  server.get("/console/api/overview", async () => ({
    appId: app.appId,
    authService: { fullName: AUTH_SERVICE, path: elementPath(app.appId, AUTH_SERVICE) },
    loginElements: logins.map(({ fakeBase, ...rest }) => ({ ...rest, simulator: fakeBase !== null })),
  }));

  server.get("/console/api/elements", async () => {
    const listed = app.listElements?.() ?? [];
    const defines = listed.map((e) => (typeof e === "string" ? app.getElementDefine(e) : e));
    const served = new Set(servedElements(app).map((d) => d.fullName));
    return {
      elements: defines
        // Config masked exactly as `jit show` masks it.
        .map((d) => ({ ...elementView(d, app.getMaskedConfig?.(d.fullName) ?? {}), served: served.has(d.fullName) }))
        .sort((a, b) => a.fullName.localeCompare(b.fullName)),
    };
  });

  server.get<{ Querystring: { search?: string; limit?: string; offset?: string } }>("/console/api/users", { schema: { querystring: USERS_QUERY } }, async (request) => {
    const store = await app.getStore();
    const limit = Math.min(Math.max(Number(request.query.limit ?? 20), 1), 100);
    const offset = Number(request.query.offset ?? 0);
    const page = await store.listUsers({ search: request.query.search ?? "", limit, offset }, now());
    return { ...page, limit, offset };
  });

  server.get<{ Params: { userId: string } }>("/console/api/users/:userId/sessions", { schema: { params: USER_PARAM } }, async (request) => {
    const store = await app.getStore();
    return { sessions: await store.listUserSessions(Number(request.params.userId), now()) };
  });

  server.delete<{ Params: { userId: string; sessionId: string } }>(
    "/console/api/users/:userId/sessions/:sessionId",
    { schema: { params: { type: "object", properties: { ...USER_PARAM.properties, sessionId: { type: "string", pattern: "^[0-9a-f]{16}$" } }, required: ["userId", "sessionId"] } } },
    async (request) => {
      const store = await app.getStore();
      const userId = Number(request.params.userId);
      const ended = await store.deleteUserSession(userId, request.params.sessionId);
      adminLog(request, "end session", { userId, sessionId: request.params.sessionId, ended });
      return { ended };
    },
  );

  // Unbind goes through the login element (same rules and log line as the user's own unbind);
  // an identity of a mini program no element of this app serves is removed in the store.
  server.delete<{ Params: { userId: string; appId: string } }>(
    "/console/api/users/:userId/bindings/:appId",
    { schema: { params: { type: "object", properties: { ...USER_PARAM.properties, appId: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" } }, required: ["userId", "appId"] } } },
    async (request) => {
      const userId = Number(request.params.userId);
      const { appId } = request.params;
      const login = logins.find((l) => l.wechatAppId === appId);
      if (login) {
        const element = app.getElement<{ unbind(userId: number): Promise<unknown> }>(login.fullName);
        await runWithCallContext({ via: "console", requestId: request.id }, () => element.unbind(userId));
      } else {
        const store = await app.getStore();
        if (!(await store.deleteBinding(appId, userId, now()))) throw new LoginError("NOT_BOUND", { userId, appId });
      }
      adminLog(request, "unbind", { userId, appId });
      return { unbound: true };
    },
  );

  // The simulated mini program's wx.login: a code minted at the fake WeChat server, and only
  // there (a loopback base), never at WeChat itself.
  server.post<{ Body: { loginElement: string; openId: string; unionId?: string } }>(
    "/console/api/simulator/code",
    {
      schema: {
        body: {
          type: "object",
          properties: {
            loginElement: { type: "string", maxLength: 200 },
            openId: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
            unionId: { type: "string", pattern: "^[A-Za-z0-9_-]{1,64}$" },
          },
          required: ["loginElement", "openId"],
          additionalProperties: false,
        },
      },
    },
    async (request) => {
      const login = logins.find((l) => l.fullName === request.body.loginElement);
      if (!login?.fakeBase) throw new HttpError("ROUTE_NOT_FOUND", { method: "POST", url: request.url });
      const code = await mintAtFake(login.fakeBase, { appId: login.wechatAppId, openId: request.body.openId, unionId: request.body.unionId ?? null });
      adminLog(request, "simulator wx.login", { loginElement: login.fullName, openId: request.body.openId });
      return { code };
    },
  );
}
