import { randomBytes } from "node:crypto";
import http from "node:http";
import type { AddressInfo } from "node:net";
import { systemClock, type Clock, ConfigError, safeEqual } from "jit-runtime/element";
import { createAccessTokenRoutes, type FakeApiRoute } from "./fakeAccessToken.ts";
import { createPhoneRoutes, type MintPhoneCodeInput } from "./fakePhone.ts";

export type { FakeApiRoute } from "./fakeAccessToken.ts";
export type { MintPhoneCodeInput } from "./fakePhone.ts";
import { fakeRid, readBody, sendJson, wxError, type FakeHandler as Handler, type WxErrorBody } from "./fakeHttp.ts";

/**
 * A fake WeChat server for development and tests: a real HTTP server on 127.0.0.1 that
 * speaks jscode2session like api.weixin.qq.com (HTTP 200 with errcode in the body, single-use
 * codes, appid/secret checks), stable_token, checksession, resetusersessionkey and
 * getuserphonenumber, and can be scripted to misbehave. Never logs anything.
 */

export interface FakeApp {
  appId: string;
  appSecret: string;
}

/** Behaviour queued for the next matching jscode2session request(s). */
export interface FakeRule {
  /** Only requests with this js_code match (default: any). */
  code?: string;
  /** How many requests the rule applies to (default 1). */
  times?: number;
  /** Answer with this errcode (a string errcode is sent as a string, as WeChat has done). */
  errcode?: number | string;
  errmsg?: string;
  /** HTTP status of the answer (default 200, as WeChat). */
  status?: number;
  contentType?: string;
  /** Send this body verbatim (e.g. "<html>" or broken JSON). */
  rawBody?: string;
  /** Wait before answering. */
  delayMs?: number;
  /** Destroy the socket without any answer. */
  drop?: boolean;
  /** Extra fields added to the JSON answer (e.g. expires_in). */
  extraFields?: Record<string, unknown>;
}

export interface MintCodeInput {
  appId: string;
  openId: string;
  unionId?: string | null;
  sessionKey?: string;
}

export interface FakeWeChatStats {
  jscode2session: number;
  stable_token: number;
  checksession: number;
  resetusersessionkey: number;
  getuserphonenumber: number;
}

export interface FakeWeChatServer {
  url: string;
  port: number;
  addApp(appId: string, appSecret: string): void;
  mintCode(input: MintCodeInput): string;
  script(rule: FakeRule): void;
  /** A phone-button code for getuserphonenumber (one use, for its AppID). */
  mintPhoneCode(input: MintPhoneCodeInput): string;
  /** Ends the AppID's current access token now: the next stable_token issues a new one. */
  expireAccessToken(appId: string): void;
  /** WeChat refuses the current token (40001) while stable_token still hands it out, until force_refresh. */
  revokeAccessToken(appId: string): void;
  /** The next `times` calls of `route` answer `errcode`. */
  failNext(route: FakeApiRoute, errcode: number, times?: number): void;
  /** A new session key for the user (as a wx.login elsewhere gives): the server's stored one goes stale. */
  rotateSessionKey(appId: string, openId: string): void;
  /** The user's current session key (tests compare it with what the server keeps). */
  sessionKeyOf(appId: string, openId: string): string | null;
  /** stable_token calls that asked for force_refresh. */
  forceRefreshes(): number;
  stats(): FakeWeChatStats;
  close(): Promise<void>;
}

export interface FakeWeChatServerOptions {
  /** 127.0.0.1 unless allowNonLoopback is set: the fake has no authentication. */
  host?: string;
  port?: number;
  apps?: FakeApp[];
  allowNonLoopback?: boolean;
  clock?: Clock;
  /** Lifetime of a minted code (WeChat: 5 minutes). */
  codeTtlMs?: number;
  /**
   * Makes each access token stable_token issues (default: 32 random bytes, base64url), so a
   * test knows every token, e.g. to search its outputs for them. Each must be new.
   */
  mintAccessToken?: (appId: string) => string;
}

interface CodeRecord {
  appId: string;
  openId: string;
  unionId: string | null;
  sessionKey: string;
  expiresAt: number;
  used: boolean;
}

const LOOPBACK = new Set(["127.0.0.1", "::1", "localhost"]);

export async function startFakeWeChatServer(options: FakeWeChatServerOptions = {}): Promise<FakeWeChatServer> {
  const host = options.host ?? "127.0.0.1";
  if (!LOOPBACK.has(host) && !options.allowNonLoopback) {
    throw new ConfigError("CONFIG_INVALID", { source: "fake WeChat server host", reason: `${host} is not a loopback address (set allowNonLoopback to expose it)` });
  }
  const clock = options.clock ?? systemClock;
  const codeTtlMs = options.codeTtlMs ?? 300_000;
  const apps = new Map<string, string>();
  for (const app of options.apps ?? []) apps.set(app.appId, app.appSecret);
  const codes = new Map<string, CodeRecord>();
  // Newest session key per appId + "\n" + openId, as WeChat keeps it (for checksession).
  const sessionKeys = new Map<string, string>();
  const rules: Array<FakeRule & { left: number }> = [];
  const counts: FakeWeChatStats = { jscode2session: 0, stable_token: 0, checksession: 0, resetusersessionkey: 0, getuserphonenumber: 0 };
  const timers = new Set<NodeJS.Timeout>();

  function delay(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(() => {
        timers.delete(timer);
        resolve();
      }, ms);
      timers.add(timer);
    });
  }

  function takeRule(code: string | null): FakeRule | null {
    const index = rules.findIndex((rule) => rule.code === undefined || rule.code === code);
    if (index < 0) return null;
    const rule = rules[index]!;
    rule.left -= 1;
    if (rule.left <= 0) rules.splice(index, 1);
    return rule;
  }

  /** Checks appid and secret the way WeChat does; returns an error body or null. */
  function checkApp(appId: string | null, secret: string | null): WxErrorBody | null {
    if (!appId) return wxError(41002);
    const expected = apps.get(appId);
    if (expected === undefined) return wxError(40013);
    if (!secret) return wxError(41004);
    if (!safeEqual(secret, expected)) return wxError(40125);
    return null;
  }

  const jscode2session: Handler = async (req, res, query) => {
    counts.jscode2session += 1;
    const jsCode = query.get("js_code");
    const rule = takeRule(jsCode);
    if (rule?.delayMs) await delay(rule.delayMs);
    if (rule?.drop) {
      req.socket.destroy();
      return;
    }
    const status = rule?.status ?? 200;
    const contentType = rule?.contentType ?? "application/json; charset=utf-8";
    if (rule?.rawBody !== undefined) {
      if (res.destroyed) return;
      res.writeHead(status, { "content-type": contentType });
      res.end(rule.rawBody);
      return;
    }
    if (rule?.errcode !== undefined) {
      sendJson(res, status, { ...wxError(rule.errcode, rule.errmsg), ...rule.extraFields }, contentType);
      return;
    }
    const problem = checkApp(query.get("appid"), query.get("secret"));
    let answer: Record<string, unknown>;
    if (problem) answer = problem;
    else if (!jsCode) answer = wxError(41008);
    else {
      const record = codes.get(jsCode);
      if (!record || record.appId !== query.get("appid") || record.expiresAt <= clock.now()) answer = wxError(40029);
      else if (record.used) answer = wxError(40163);
      else {
        record.used = true;
        sessionKeys.set(`${record.appId}\n${record.openId}`, record.sessionKey);
        answer = { openid: record.openId, session_key: record.sessionKey, ...(record.unionId ? { unionid: record.unionId } : {}) };
      }
    }
    sendJson(res, status, { ...answer, ...rule?.extraFields }, contentType);
  };

  const { stableToken, checkSession, resetSessionKey, controls } = createAccessTokenRoutes({
    clock,
    checkApp,
    sessionKeys,
    count: (route) => (counts[route] += 1),
    mintToken: options.mintAccessToken,
  });
  const phone = createPhoneRoutes({ clock, codeTtlMs, tokens: controls, count: () => (counts.getuserphonenumber += 1) });

  const mintCode = (input: MintCodeInput): string => {
    if (!input || typeof input.appId !== "string" || !input.appId || typeof input.openId !== "string" || !input.openId) {
      throw new TypeError("mintCode needs appId and openId");
    }
    const code = randomBytes(24).toString("base64url");
    codes.set(code, {
      appId: input.appId,
      openId: input.openId,
      unionId: input.unionId || null,
      sessionKey: input.sessionKey ?? randomBytes(16).toString("base64"),
      expiresAt: clock.now() + codeTtlMs,
      used: false,
    });
    return code;
  };

  // POST /__fake/codes {appId, openId, unionId?} → {code}: for humans and the CLI.
  const controlCodes: Handler = (_req, res, _query, body) => {
    let input: unknown;
    try {
      input = JSON.parse(body);
    } catch {
      return sendJson(res, 400, { error: "body must be JSON {appId, openId, unionId?}" });
    }
    const value = input as Record<string, unknown>;
    if (!value || typeof value.appId !== "string" || !value.appId || typeof value.openId !== "string" || !value.openId || (value.unionId != null && typeof value.unionId !== "string")) {
      return sendJson(res, 400, { error: "body must be JSON {appId, openId, unionId?}" });
    }
    const code = mintCode({ appId: value.appId, openId: value.openId, unionId: (value.unionId as string | undefined) ?? null });
    sendJson(res, 200, { code });
  };

  // POST /__fake/phone-codes {appId, purePhoneNumber, countryCode?} → {code}: for humans and the CLI.
  const controlPhoneCodes: Handler = (_req, res, _query, body) => {
    const usage = "body must be JSON {appId, purePhoneNumber, countryCode?}";
    let value: Record<string, unknown>;
    try {
      value = JSON.parse(body) as Record<string, unknown>;
    } catch {
      return sendJson(res, 400, { error: usage });
    }
    if (!value || typeof value.appId !== "string" || typeof value.purePhoneNumber !== "string" || (value.countryCode != null && typeof value.countryCode !== "string")) {
      return sendJson(res, 400, { error: usage });
    }
    try {
      const code = phone.mintPhoneCode({ appId: value.appId, purePhoneNumber: value.purePhoneNumber, ...(typeof value.countryCode === "string" ? { countryCode: value.countryCode } : {}) });
      sendJson(res, 200, { code });
    } catch {
      sendJson(res, 400, { error: usage });
    }
  };

  const routes = new Map<string, Handler>([
    ["GET /sns/jscode2session", jscode2session],
    ["POST /cgi-bin/stable_token", stableToken],
    ["GET /wxa/checksession", checkSession],
    ["GET /wxa/resetusersessionkey", resetSessionKey],
    ["POST /wxa/business/getuserphonenumber", phone.getPhoneNumber],
    ["POST /__fake/codes", controlCodes],
    ["POST /__fake/phone-codes", controlPhoneCodes],
    ["GET /__fake/stats", (_req, res) => sendJson(res, 200, { ...counts })],
  ]);

  const server = http.createServer((req, res) => {
    const url = new URL(req.url ?? "/", "http://fake.invalid");
    const handler = routes.get(`${req.method} ${url.pathname}`);
    if (!handler) {
      sendJson(res, 404, { errcode: 404, errmsg: `no such API ${req.method} ${url.pathname}, rid: ${fakeRid()}` });
      return;
    }
    const run = async () => {
      const body = req.method === "POST" ? await readBody(req) : "";
      await handler(req, res, url.searchParams, body);
    };
    run().catch(() => {
      if (!res.headersSent && !res.destroyed) sendJson(res, 500, { errcode: -1, errmsg: "fake server error" });
      else res.destroy();
    });
  });
  server.on("clientError", (_err, socket) => socket.destroy());

  await new Promise<void>((resolve, reject) => {
    server.once("error", reject);
    server.listen(options.port ?? 0, host, () => {
      server.off("error", reject);
      resolve();
    });
  });
  const port = (server.address() as AddressInfo).port;
  const urlHost = host.includes(":") ? `[${host}]` : host;

  return {
    url: `http://${urlHost}:${port}`,
    port,
    addApp(appId, appSecret) {
      apps.set(appId, appSecret);
    },
    mintCode,
    script(rule) {
      rules.push({ ...rule, left: rule.times ?? 1 });
    },
    mintPhoneCode: phone.mintPhoneCode,
    expireAccessToken: controls.expireAccessToken,
    revokeAccessToken: controls.revokeAccessToken,
    failNext: controls.failNext,
    rotateSessionKey(appId, openId) {
      controls.rotateSessionKey(appId, openId);
    },
    sessionKeyOf: (appId, openId) => sessionKeys.get(`${appId}\n${openId}`) ?? null,
    forceRefreshes: controls.forceRefreshes,
    stats: () => ({ ...counts }),
    close() {
      for (const timer of timers) clearTimeout(timer);
      timers.clear();
      return new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}
