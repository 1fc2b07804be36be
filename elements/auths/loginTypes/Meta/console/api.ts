import type { FastifyInstance } from "fastify";
import { HttpError, runWithCallContext, type AppContext, type ConsoleKit, type FamilyConsole } from "jit-runtime/element";
import { LoginError } from "../errors.ts";
import { AUTH_SERVICE } from "../session.ts";
import { fakeWeChatBase, mintAtFake } from "./fakeWeChat.ts";
import type { Store } from "../../../storage/Store.ts";
import { storeOf } from "../../../storage/storeOf.ts";

/**
 * The login family's part of the console's JSON API (the admin token and loopback checks run
 * before any of these). Reads: users with bindings and sessions. Actions: end a session,
 * unbind an identity; each is logged with the request id. Sessions are named by a hash
 * prefix. The simulated mini program gets its wx.login codes here.
 */

interface LoginElement {
  fullName: string;
  /** The WeChat AppID of the mini program. */
  wechatAppId: string;
  path: string;
  /** Where this element's WeChat calls go; the simulator may mint codes there only if it is a fake on loopback. */
  fakeBase: string | null;
}

function loginElements(kit: ConsoleKit): LoginElement[] {
  const out: LoginElement[] = [];
  for (const define of kit.servedElements()) {
    if (!define.functionList.some((f) => f.name === "getLoginCode")) continue;
    const auth = define.config.authConfig as { appId?: unknown; apiBase?: unknown } | undefined;
    if (typeof auth?.appId !== "string") continue;
    out.push({
      fullName: define.fullName,
      wechatAppId: auth.appId,
      path: kit.elementPath(define.fullName),
      // Where the login elements send their WeChat calls: the app's own environment first.
      fakeBase: fakeWeChatBase(typeof auth.apiBase === "string" && auth.apiBase ? auth.apiBase : kit.env.WECHAT_API_BASE),
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

function overview(_app: AppContext, kit: ConsoleKit): Record<string, unknown> {
  return {
    authService: { fullName: AUTH_SERVICE, path: kit.elementPath(AUTH_SERVICE) },
    loginElements: loginElements(kit).map(({ fakeBase, ...rest }) => ({ ...rest, simulator: fakeBase !== null })),
  };
}

function routes(server: FastifyInstance, app: AppContext, kit: ConsoleKit): void {
  const logins = loginElements(kit);
  const store = (): Promise<Store> => storeOf(app);

  server.get<{ Querystring: { search?: string; limit?: string; offset?: string } }>("/console/api/users", { schema: { querystring: USERS_QUERY } }, async (request) => {
    const limit = Math.min(Math.max(Number(request.query.limit ?? 20), 1), 100);
    const offset = Number(request.query.offset ?? 0);
    const page = await (await store()).listUsers({ search: request.query.search ?? "", limit, offset }, kit.now());
    return { ...page, limit, offset };
  });

  server.get<{ Params: { userId: string } }>("/console/api/users/:userId/sessions", { schema: { params: USER_PARAM } }, async (request) => {
    return { sessions: await (await store()).listUserSessions(Number(request.params.userId), kit.now()) };
  });

  server.delete<{ Params: { userId: string; sessionId: string } }>(
    "/console/api/users/:userId/sessions/:sessionId",
    { schema: { params: { type: "object", properties: { ...USER_PARAM.properties, sessionId: { type: "string", pattern: "^[0-9a-f]{16}$" } }, required: ["userId", "sessionId"] } } },
    async (request) => {
      const userId = Number(request.params.userId);
      const ended = await (await store()).deleteUserSession(userId, request.params.sessionId);
      kit.adminLog(request, "end session", { userId, sessionId: request.params.sessionId, ended });
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
      } else if (!(await (await store()).deleteBinding(appId, userId, kit.now()))) {
        throw new LoginError("NOT_BOUND", { userId, appId });
      }
      kit.adminLog(request, "unbind", { userId, appId });
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
      kit.adminLog(request, "simulator wx.login", { loginElement: login.fullName, openId: request.body.openId });
      return { code };
    },
  );
}

export const loginConsole: FamilyConsole = { overview, routes };
