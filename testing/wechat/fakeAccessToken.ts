import { createHmac, randomBytes } from "node:crypto";
import type { Clock } from "#runtime/clock.ts";
import { safeEqual } from "#runtime/security/tokens.ts";
import { sendJson, wxError, type FakeHandler, type WxErrorBody } from "./fakeHttp.ts";

/**
 * The fake's access-token side: POST /cgi-bin/stable_token and GET /wxa/checksession.
 * Login never needs these; they are here so the session-key check can be developed
 * against the fake.
 */
export function createAccessTokenRoutes(deps: {
  clock: Clock;
  checkApp(appId: string | null, secret: string | null): WxErrorBody | null;
  /** Newest session key per `${appId}\n${openId}`, filled by jscode2session. */
  sessionKeys: ReadonlyMap<string, string>;
  count(route: "stable_token" | "checksession"): void;
}): { stableToken: FakeHandler; checkSession: FakeHandler } {
  const tokens = new Map<string, { appId: string; expiresAt: number }>();
  const currentToken = new Map<string, string>();

  // Normal mode returns the SAME token to every caller until it expires; force_refresh renews.
  const stableToken: FakeHandler = (_req, res, _query, body) => {
    deps.count("stable_token");
    let input: Record<string, unknown>;
    try {
      input = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return sendJson(res, 200, wxError(47001, "data format error"));
    }
    const appId = typeof input?.appid === "string" ? input.appid : null;
    const problem = deps.checkApp(appId, typeof input?.secret === "string" ? input.secret : null);
    if (problem || !appId) return sendJson(res, 200, problem);
    const now = deps.clock.now();
    let token = currentToken.get(appId);
    let record = token ? tokens.get(token) : undefined;
    if (!token || !record || record.expiresAt <= now || input.force_refresh === true) {
      token = randomBytes(32).toString("base64url");
      record = { appId, expiresAt: now + 7_200_000 };
      tokens.set(token, record);
      currentToken.set(appId, token);
    }
    sendJson(res, 200, { access_token: token, expires_in: Math.floor((record.expiresAt - now) / 1000) });
  };

  // signature = hex HMAC-SHA256 keyed with the session_key text over ""; 87009 when stale.
  const checkSession: FakeHandler = (_req, res, query) => {
    deps.count("checksession");
    const token = tokens.get(query.get("access_token") ?? "");
    if (!token || token.expiresAt <= deps.clock.now()) return sendJson(res, 200, wxError(40001));
    const key = deps.sessionKeys.get(`${token.appId}\n${query.get("openid") ?? ""}`);
    const signature = query.get("signature") ?? "";
    if (query.get("sig_method") !== "hmac_sha256" || !key || !safeEqual(signature, sessionSignature(key))) {
      return sendJson(res, 200, wxError(87009));
    }
    sendJson(res, 200, { errcode: 0, errmsg: "ok" });
  };

  return { stableToken, checkSession };
}

/**
 * The user-state signature WeChat checks: lowercase hex HMAC-SHA256 keyed with the
 * session_key text. Computed here rather than imported from the login Type, so the fake
 * checks the client against WeChat's rule, not against the client's own code.
 */
function sessionSignature(sessionKey: string, message = ""): string {
  return createHmac("sha256", sessionKey).update(message, "utf8").digest("hex");
}
