import { runWithCallContext } from "../context/callContext.ts";
import { LoginError, isJitError } from "../errors/index.ts";
import { hashToken } from "../security/tokens.ts";
import type { Caller, ServedApp } from "./types.ts";

/**
 * Resolves `Authorization: Bearer <token>` to the logged-in user. Sessions belong to the
 * login family: the server asks AuthSvc.getCurrentUser, and only falls back to the store's
 * session table when the app has no AuthSvc.
 */

export const AUTH_SERVICE = "auths.loginTypes.services.AuthSvc";
const TOKEN_SHAPE = /^[A-Za-z0-9._~+/=-]{16,512}$/;

/** The token in the header; null when there is no Authorization header. Malformed → TOKEN_INVALID. */
export function bearerToken(header: string | undefined): string | null {
  if (header === undefined || header === "") return null;
  const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
  if (!match || !TOKEN_SHAPE.test(match[1]!)) throw new LoginError("TOKEN_INVALID");
  return match[1]!;
}

type CurrentUser = (token?: string) => Promise<unknown>;

function plain(value: unknown): Record<string, unknown> | null {
  if (value === null || typeof value !== "object") return null;
  const json = (value as { toJSON?: () => unknown }).toJSON;
  return (typeof json === "function" ? json.call(value) : value) as Record<string, unknown>;
}

export function makeSessionResolver(app: ServedApp): (token: string, requestId: string) => Promise<Caller> {
  let authSvc: { getCurrentUser: CurrentUser } | null | undefined;
  const findAuthSvc = () => {
    if (authSvc !== undefined) return authSvc;
    try {
      const element = app.getElement<{ getCurrentUser?: CurrentUser }>(AUTH_SERVICE);
      authSvc = typeof element?.getCurrentUser === "function" ? (element as { getCurrentUser: CurrentUser }) : null;
    } catch (err) {
      if (isJitError(err) && err.code === "ELEMENT_NOT_FOUND") authSvc = null;
      else throw err;
    }
    return authSvc;
  };

  return async (token, requestId) => {
    const svc = findAuthSvc();
    let record: Record<string, unknown> | null;
    if (svc) {
      // The token travels both ways AuthSvc may read it: as the argument and in the call context.
      const result = await runWithCallContext({ via: "http", requestId, token }, () => svc.getCurrentUser(token));
      record = plain(result);
    } else {
      const store = await app.getStore();
      record = plain(await store.getSession(hashToken(token), app.clock?.now() ?? Date.now()));
    }
    const userId = Number(record?.userId);
    if (!record || !Number.isSafeInteger(userId)) throw new LoginError("TOKEN_INVALID");
    const corpId = typeof record.corpId === "string" ? record.corpId : null;
    return { userId, corpId, token };
  };
}
