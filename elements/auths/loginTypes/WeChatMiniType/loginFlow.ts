import { type Clock, isJitError, hashToken, newSecretToken } from "jit-runtime/element";
import { queueLoginCode, type Queued } from "../Meta/loginCodes.ts";
import { CODE_TTL_SECONDS, type BindCodeResult, type LoginCodeResult } from "../Meta/types.ts";
import type { WeChatIdentity } from "./gateway.ts";
import type { Store } from "../../storage/Store.ts";

const CODE_TTL_MS = CODE_TTL_SECONDS * 1000;

/**
 * The user behind a WeChat identity: its binding in this AppID, else (when WeChat gave a
 * unionId) the user who holds that unionId in another mini program; that user then gets a
 * binding here too. Returns null for an unregistered identity.
 *
 * An identity unbound in this AppID is not linked again through its unionId: unbind means
 * "unregistered here" until an explicit bind or register. Without this check the
 * next login silently re-created the binding that unbind had just removed.
 */
export async function resolveUser(store: Store, identity: WeChatIdentity, now: number): Promise<number | null> {
  const binding = await store.findBindingByOpenId(identity.appId, identity.openId);
  if (binding) return binding.userId;
  if (!identity.unionId) return null;
  if (await store.wasUnbound(identity.appId, identity.openId)) return null;

  const userId = await store.findUserIdByUnionId(identity.unionId);
  if (userId === null) return null;
  // The user may already be bound here under another openId (e.g. bound by hand): log that
  // user in without a second binding, since a user has one binding per AppID.
  if (await store.findBindingByUser(identity.appId, userId)) return userId;
  try {
    await store.createBinding({ ...identity, userId }, now);
  } catch (err) {
    // Another request bound this identity or this user meanwhile: the store refused the
    // duplicate, so look again rather than fail the login.
    if (isJitError(err) && (err.code === "WECHAT_ALREADY_BOUND" || err.code === "ALREADY_BOUND")) {
      const winner = await store.findBindingByOpenId(identity.appId, identity.openId);
      return winner ? winner.userId : userId;
    }
    throw err;
  }
  return userId;
}

/** A login code for a user recognised by a WeChat identity (the shared issuer, origin: this identity). */
export function queueLoginCodeFor(store: Store, clock: Clock, loginType: string, identity: WeChatIdentity, userId: number): Promise<Queued<LoginCodeResult>> {
  return queueLoginCode(store, clock, { loginType, appId: identity.appId, openId: identity.openId }, userId);
}

/** A single-use bind code that remembers the identity until register(), stored only as its hash. */
export function queueBindCode(store: Store, clock: Clock, identity: WeChatIdentity): Queued<BindCodeResult> {
  const now = clock.now();
  const bindCode = newSecretToken(32);
  const written = store.saveBindCode(
    hashToken(bindCode),
    { appId: identity.appId, openId: identity.openId, unionId: identity.unionId, expiresAt: now + CODE_TTL_MS },
    now,
  );
  written.catch(() => {});
  return { result: { bindCode, expiresIn: CODE_TTL_SECONDS }, written };
}
