import { hashToken, isJitError, type AppContext, type SessionCaller } from "jit-runtime/element";
import { storeOf } from "../../storage/storeOf.ts";

/**
 * The login family's session lookup (family.ts): a bearer token → the caller. Sessions
 * belong to the family, so it asks its own AuthSvc, which an app may override; an app
 * without one still has the store's session table.
 */

export const AUTH_SERVICE = "auths.loginTypes.services.AuthSvc";

type CurrentUser = (token?: string) => Promise<unknown>;

function plain(value: unknown): Record<string, unknown> | null {
  if (value === null || typeof value !== "object") return null;
  const json = (value as { toJSON?: () => unknown }).toJSON;
  return (typeof json === "function" ? json.call(value) : value) as Record<string, unknown>;
}

/** The app's AuthSvc when it has one with getCurrentUser, remembered per app. */
const services = new WeakMap<AppContext, { getCurrentUser: CurrentUser } | null>();

function authServiceOf(app: AppContext): { getCurrentUser: CurrentUser } | null {
  const known = services.get(app);
  if (known !== undefined) return known;
  let found: { getCurrentUser: CurrentUser } | null;
  try {
    const element = app.getElement<{ getCurrentUser?: CurrentUser }>(AUTH_SERVICE);
    found = typeof element?.getCurrentUser === "function" ? (element as { getCurrentUser: CurrentUser }) : null;
  } catch (err) {
    if (isJitError(err) && err.code === "ELEMENT_NOT_FOUND") found = null;
    else throw err;
  }
  services.set(app, found);
  return found;
}

export async function lookupSession(token: string, app: AppContext): Promise<SessionCaller | null> {
  const svc = authServiceOf(app);
  // The HTTP layer runs this inside the request's call context, which carries the token too.
  const record = svc ? plain(await svc.getCurrentUser(token)) : plain(await (await storeOf(app)).getSession(hashToken(token), app.clock.now()));
  const userId = Number(record?.userId);
  if (!record || !Number.isSafeInteger(userId)) return null;
  return { userId, corpId: typeof record.corpId === "string" ? record.corpId : null };
}
