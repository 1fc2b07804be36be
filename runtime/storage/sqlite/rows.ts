import Database from "better-sqlite3";
import { LoginError } from "../../errors/index.ts";
import type { BindCodeRecord, BindingRecord, LoginCodeRecord, LoginOrigin, PasswordCredentialRecord, SessionRecord, UserRecord } from "../Store.ts";

/** Raw rows as SQLite returns them (snake_case columns). */
export interface UserRow { user_id: number; name: string | null; created_at: number; phone?: string | null }
export interface BindingRow { app_id: string; open_id: string; union_id: string | null; user_id: number; created_at: number }
export interface BindCodeRow { app_id: string; open_id: string; union_id: string | null; expires_at: number }
export interface LoginCodeRow { app_id: string; user_id: number; expires_at: number; login_type: string | null; open_id: string | null }
export interface SessionRow {
  user_id: number;
  corp_id: string | null;
  created_at: number;
  expires_at: number;
  login_type: string | null;
  app_id: string | null;
  open_id: string | null;
}

export interface PasswordRow { realm: string; username: string; user_id: number; password_hash: string; created_at: number; updated_at: number }

export const toPassword = (r: PasswordRow): PasswordCredentialRecord => ({
  realm: r.realm,
  username: r.username,
  userId: r.user_id,
  passwordHash: r.password_hash,
  createdAt: r.created_at,
  updatedAt: r.updated_at,
});

export const toUser = (r: UserRow): UserRecord => ({
  userId: r.user_id,
  name: r.name,
  createdAt: r.created_at,
  ...(typeof r.phone === "string" ? { phone: r.phone } : {}),
});

export const toBinding = (r: BindingRow): BindingRecord => ({
  appId: r.app_id,
  openId: r.open_id,
  unionId: r.union_id,
  userId: r.user_id,
  createdAt: r.created_at,
});

export const toBindCode = (r: BindCodeRow): BindCodeRecord => ({
  appId: r.app_id,
  openId: r.open_id,
  unionId: r.union_id,
  expiresAt: r.expires_at,
});

/** An origin is stored as three nullable columns: all set, or none. */
const toOrigin = (loginType: string | null, appId: string | null, openId: string | null): LoginOrigin | null =>
  loginType !== null && appId !== null && openId !== null ? { loginType, appId, openId } : null;

export const toLoginCode = (r: LoginCodeRow): LoginCodeRecord => ({
  appId: r.app_id,
  userId: r.user_id,
  expiresAt: r.expires_at,
  origin: toOrigin(r.login_type, r.app_id, r.open_id),
});

export const toSession = (r: SessionRow): SessionRecord => ({
  userId: r.user_id,
  corpId: r.corp_id,
  createdAt: r.created_at,
  expiresAt: r.expires_at,
  origin: toOrigin(r.login_type, r.app_id, r.open_id),
});

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

/** USERNAME_TAKEN names the app (the realm without its "password:" prefix), never the username. */
export function usernameTaken(realm: string): InstanceType<typeof LoginError> {
  return new LoginError("USERNAME_TAKEN", { appId: realm.replace(/^password:/, "") });
}
