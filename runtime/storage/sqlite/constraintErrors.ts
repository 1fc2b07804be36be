import Database from "better-sqlite3";
import { usernameTaken } from "../rows.ts";
import { LoginError } from "../../../elements/auths/loginTypes/Meta/errors.ts";

/** SQLite's constraint errors as the store's typed errors. */

/**
 * Last line of defence for binding inserts: the store checks conflicts first inside the
 * same transaction, but if a constraint still fires, map it to the same typed errors.
 * SQLite names the columns of the violated UNIQUE constraint in its message.
 */
export function bindingConflict(err: unknown, binding: { appId: string; userId: number }): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  if (err.code === "SQLITE_CONSTRAINT_FOREIGNKEY") return new LoginError("USER_NOT_FOUND", { userId: binding.userId });
  if (err.code === "SQLITE_CONSTRAINT_UNIQUE") {
    if (err.message.includes(".open_id")) return new LoginError("WECHAT_ALREADY_BOUND", { appId: binding.appId });
    if (err.message.includes(".user_id")) return new LoginError("ALREADY_BOUND", { userId: binding.userId, appId: binding.appId });
  }
  return err;
}

/** Rows that reference a user (login codes, sessions): a missing user is USER_NOT_FOUND. */
export function missingUser(err: unknown, userId: number): unknown {
  return err instanceof Database.SqliteError && err.code === "SQLITE_CONSTRAINT_FOREIGNKEY"
    ? new LoginError("USER_NOT_FOUND", { userId })
    : err;
}

/**
 * Password credential inserts: SQLite names the columns of the violated UNIQUE constraint
 * in its message (it keeps no constraint names), so the username rule is told apart by its
 * column. The store checks both rules first inside the same transaction; this is the last
 * line of defence.
 */
export function passwordConflict(err: unknown, credential: { realm: string; userId: number }): unknown {
  if (!(err instanceof Database.SqliteError)) return err;
  if (err.code === "SQLITE_CONSTRAINT_FOREIGNKEY") return new LoginError("USER_NOT_FOUND", { userId: credential.userId });
  if (err.code === "SQLITE_CONSTRAINT_UNIQUE" && err.message.includes(".username")) return usernameTaken(credential.realm);
  if (err.code === "SQLITE_CONSTRAINT_UNIQUE" && err.message.includes(".user_id")) return new LoginError("PASSWORD_ALREADY_SET", { userId: credential.userId, fullName: credential.realm });
  return err;
}
