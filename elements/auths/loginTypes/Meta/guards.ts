import { SessionError, currentCallContext, type AppContext, hashToken } from "jit-runtime/element";
import { LoginError } from "./errors.ts";
import type { CorpRecord } from "../../storage/Store.ts";
import { storeOf } from "../../storage/storeOf.ts";

/**
 * Checks every login Type makes the same way. Functions, not protected methods: the compiled
 * .d.ts of a Type's class factory cannot name protected members (TS4094).
 */

/** LOGIN_TYPE_INACTIVE unless the instance is active. */
export function requireActive(login: { isActive: boolean; fullName: string }): void {
  if (!login.isActive) throw new LoginError("LOGIN_TYPE_INACTIVE", { fullName: login.fullName });
}

/** REGISTRATION_CLOSED unless the instance allows registration (allowRegister 1). */
export function requireRegistrationOpen(login: { allowRegister: 0 | 1; fullName: string }): void {
  if (login.allowRegister !== 1) throw new LoginError("REGISTRATION_CLOSED", { fullName: login.fullName });
}

/**
 * Applies the family's per-identity limit (family.ts, `limits.identity`) once a credential
 * names an identity (realm + subject: AppID + openId). Throws RATE_LIMITED.
 */
export async function limitIdentity(appId: string, openId: string): Promise<void> {
  // ":" between the two, not NUL: PostgreSQL text refuses NUL, which failed every WeChat
  // login once the counts lived in PostgreSQL. Neither an AppID nor an openId holds a ":".
  const limited = currentCallContext()?.limit?.("identity", `${appId}:${openId}`);
  if (limited) await limited; // a shared limit store answers asynchronously
}

/** The organisation new users of an instance join: authConfig.registerCorpId (+ registerCorpName). */
export function registerCorpOf(authConfig: Readonly<Record<string, unknown>>): CorpRecord | null {
  const { registerCorpId, registerCorpName } = authConfig;
  if (typeof registerCorpId !== "string" || registerCorpId === "") return null;
  return { corpId: registerCorpId, corpName: typeof registerCorpName === "string" && registerCorpName !== "" ? registerCorpName : registerCorpId };
}

/**
 * The logged-in caller: their user id and session token. Over HTTP the front door resolved
 * the token already; `jit call --token` brings only the token, resolved here through the
 * store. No token: LOGIN_REQUIRED; a dead one: TOKEN_INVALID.
 */
export async function requireCaller(app: Pick<AppContext, "getStore" | "clock">): Promise<{ userId: number; token: string | null }> {
  const context = currentCallContext();
  if (context?.userId !== undefined) return { userId: context.userId, token: context.token ?? null };
  if (!context?.token) throw new SessionError("LOGIN_REQUIRED");
  const session = await (await storeOf(app)).getSession(hashToken(context.token), app.clock.now());
  if (!session) throw new SessionError("TOKEN_INVALID");
  return { userId: session.userId, token: context.token };
}
