import type { UnitContext } from "jit-runtime/element";
import { LoginError } from "../../loginTypes/Meta/errors.ts";
import { usernameTaken } from "../rows.ts";

/**
 * Constraint violations as the store's typed errors, told apart by the constraint's name
 * (the handle reports it on both databases; migrations/ names every rule the store relies on).
 * The store checks conflicts first inside the same transaction: these are the last line of
 * defence.
 */

export function bindingConflict(ctx: Pick<UnitContext, "constraintOf">, err: unknown, binding: { appId: string; userId: number }): unknown {
  const violation = ctx.constraintOf(err);
  if (violation?.kind === "foreign_key") return new LoginError("USER_NOT_FOUND", { userId: binding.userId });
  if (violation?.constraint === IDENTITY_SUBJECT) return new LoginError("WECHAT_ALREADY_BOUND", { appId: binding.appId });
  if (violation?.constraint === IDENTITY_USER) return new LoginError("ALREADY_BOUND", { userId: binding.userId, appId: binding.appId });
  return err;
}

/** Rows that reference a user (login codes, sessions): a missing user is USER_NOT_FOUND. */
export function missingUser(ctx: Pick<UnitContext, "constraintOf">, err: unknown, userId: number): unknown {
  return ctx.constraintOf(err)?.kind === "foreign_key" ? new LoginError("USER_NOT_FOUND", { userId }) : err;
}

export function passwordConflict(ctx: Pick<UnitContext, "constraintOf">, err: unknown, credential: { realm: string; userId: number }): unknown {
  const violation = ctx.constraintOf(err);
  if (violation?.kind === "foreign_key") return new LoginError("USER_NOT_FOUND", { userId: credential.userId });
  if (violation?.constraint === IDENTITY_SUBJECT) return usernameTaken(credential.realm);
  if (violation?.constraint === IDENTITY_USER) return new LoginError("PASSWORD_ALREADY_SET", { userId: credential.userId, fullName: credential.realm });
  return err;
}

/** The identities table's two unique rules (migrations/), by name on both databases. */
export const IDENTITY_SUBJECT = "identities_subject";
export const IDENTITY_USER = "identities_user";
