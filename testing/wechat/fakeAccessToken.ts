import { createHmac, randomBytes } from "node:crypto";
import { type Clock, safeEqual } from "jit-runtime/element";
import { sendJson, wxError, type FakeHandler, type WxErrorBody } from "./fakeHttp.ts";

/** The routes of the fake that count their calls. */
export type FakeApiRoute = "stable_token" | "checksession" | "resetusersessionkey" | "getuserphonenumber";

interface TokenRecord {
  appId: string;
  expiresAt: number;
  revoked: boolean;
}

export interface FakeTokenControls {
  /** The token a business call carries, or the errcode WeChat answers for it. */
  tokenOf(query: URLSearchParams, route: FakeApiRoute): { appId: string } | WxErrorBody;
  /** Ends the AppID's current token now: the next stable_token issues a new one. */
  expireAccessToken(appId: string): void;
  /** WeChat refuses the current token (40001) although stable_token still hands it out, until force_refresh. */
  revokeAccessToken(appId: string): void;
  /** The next `times` calls of `route` answer `errcode` (e.g. 40001 for a token WeChat dropped). */
  failNext(route: FakeApiRoute, errcode: number, times?: number): void;
  /** Gives the user a new session key, as a wx.login elsewhere would: the stored one goes stale. */
  rotateSessionKey(appId: string, openId: string): string;
  /** How many stable_token calls asked for force_refresh. */
  forceRefreshes(): number;
}

/**
 * The fake's access-token side: POST /cgi-bin/stable_token (the same token for every caller
 * until it expires or is force-refreshed), GET /wxa/checksession and GET
 * /wxa/resetusersessionkey, both signed with the user's current session key.
 */
export function createAccessTokenRoutes(deps: {
  clock: Clock;
  checkApp(appId: string | null, secret: string | null): WxErrorBody | null;
  /** Newest session key per `${appId}\n${openId}`, filled by jscode2session. */
  sessionKeys: Map<string, string>;
  count(route: FakeApiRoute): void;
  /** Makes each new token (default: 32 random bytes, base64url). */
  mintToken?: (appId: string) => string;
}): { stableToken: FakeHandler; checkSession: FakeHandler; resetSessionKey: FakeHandler; controls: FakeTokenControls } {
  const tokens = new Map<string, TokenRecord>();
  const currentToken = new Map<string, string>();
  const failures: Array<{ route: FakeApiRoute; errcode: number; left: number }> = [];
  let forced = 0;

  function scripted(route: FakeApiRoute): WxErrorBody | null {
    const index = failures.findIndex((f) => f.route === route);
    if (index < 0) return null;
    const failure = failures[index]!;
    failure.left -= 1;
    if (failure.left <= 0) failures.splice(index, 1);
    return wxError(failure.errcode);
  }

  // Normal mode returns the SAME token to every caller until it expires; force_refresh renews.
  const stableToken: FakeHandler = (_req, res, _query, body) => {
    deps.count("stable_token");
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return sendJson(res, 200, wxError(47001, "data format error"));
    }
    const failure = scripted("stable_token");
    if (failure) return sendJson(res, 200, failure);
    const appId = typeof input?.appid === "string" ? input.appid : null;
    const problem = deps.checkApp(appId, typeof input?.secret === "string" ? input.secret : null);
    if (problem || !appId) return sendJson(res, 200, problem);
    const now = deps.clock.now();
    if (input.force_refresh === true) forced += 1;
    let token = currentToken.get(appId);
    let record = token ? tokens.get(token) : undefined;
    if (!token || !record || record.expiresAt <= now || input.force_refresh === true) {
      token = deps.mintToken ? deps.mintToken(appId) : randomBytes(32).toString("base64url");
      if (typeof token !== "string" || token === "" || tokens.has(token)) throw new TypeError("mintAccessToken must return a new non-empty string");
      record = { appId, expiresAt: now + 7_200_000, revoked: false };
      tokens.set(token, record);
      currentToken.set(appId, token);
    }
    sendJson(res, 200, { access_token: token, expires_in: Math.floor((record.expiresAt - now) / 1000) });
  };

  const tokenOf: FakeTokenControls["tokenOf"] = (query, route) => {
    const failure = scripted(route);
    if (failure) return failure;
    const record = tokens.get(query.get("access_token") ?? "");
    if (!record || record.revoked) return wxError(40001);
    if (record.expiresAt <= deps.clock.now()) return wxError(42001, "access_token expired");
    return { appId: record.appId };
  };

  /** The user's current key, if `signature` was made with it. */
  function signedKey(appId: string, query: URLSearchParams): string | null {
    const key = deps.sessionKeys.get(`${appId}\n${query.get("openid") ?? ""}`);
    const signature = query.get("signature") ?? "";
    if (query.get("sig_method") !== "hmac_sha256" || !key || !safeEqual(signature, sessionSignature(key))) return null;
    return key;
  }

  // signature = hex HMAC-SHA256 keyed with the session_key text over ""; 87009 when stale.
  const checkSession: FakeHandler = (_req, res, query) => {
    deps.count("checksession");
    const token = tokenOf(query, "checksession");
    if ("errcode" in token) return sendJson(res, 200, token);
    if (!signedKey(token.appId, query)) return sendJson(res, 200, wxError(87009));
    sendJson(res, 200, { errcode: 0, errmsg: "ok" });
  };

  const resetSessionKey: FakeHandler = (_req, res, query) => {
    deps.count("resetusersessionkey");
    const token = tokenOf(query, "resetusersessionkey");
    if ("errcode" in token) return sendJson(res, 200, token);
    if (!signedKey(token.appId, query)) return sendJson(res, 200, wxError(87009));
    const openId = query.get("openid") ?? "";
    const sessionKey = rotate(token.appId, openId);
    sendJson(res, 200, { errcode: 0, errmsg: "ok", openid: openId, session_key: sessionKey });
  };

  function rotate(appId: string, openId: string): string {
    const sessionKey = randomBytes(16).toString("base64");
    deps.sessionKeys.set(`${appId}\n${openId}`, sessionKey);
    return sessionKey;
  }

  const controls: FakeTokenControls = {
    tokenOf,
    expireAccessToken(appId) {
      const record = tokens.get(currentToken.get(appId) ?? "");
      if (record) record.expiresAt = deps.clock.now();
    },
    revokeAccessToken(appId) {
      const record = tokens.get(currentToken.get(appId) ?? "");
      if (record) record.revoked = true;
    },
    failNext(route, errcode, times = 1) {
      failures.push({ route, errcode, left: times });
    },
    rotateSessionKey: rotate,
    forceRefreshes: () => forced,
  };

  return { stableToken, checkSession, resetSessionKey, controls };
}

/**
 * The user-state signature WeChat checks: lowercase hex HMAC-SHA256 keyed with the
 * session_key text. Computed here rather than imported from the login Type, so the fake
 * checks the client against WeChat's rule, not against the client's own code.
 */
function sessionSignature(sessionKey: string, message = ""): string {
  return createHmac("sha256", sessionKey).update(message, "utf8").digest("hex");
}
