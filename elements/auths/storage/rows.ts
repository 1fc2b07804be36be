import { LoginError } from "../loginTypes/Meta/errors.ts";
import type { BindCodeRecord, BindingRecord, LoginCodeRecord, LoginOrigin, PasswordCredentialRecord, SessionRecord, UserRecord } from "./Store.ts";

/**
 * Rows as both stores read them (snake_case columns; times and ids as numbers), and their
 * records. Store-neutral: the PostgreSQL store uses them without loading SQLite.
 */
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

/** USERNAME_TAKEN names the app (the realm without its "password:" prefix), never the username. */
export function usernameTaken(realm: string): InstanceType<typeof LoginError> {
  return new LoginError("USERNAME_TAKEN", { appId: realm.replace(/^password:/, "") });
}

/** The hash prefix that names a session in the console (AdminSessionView.sessionId). */
export const SESSION_ID = /^[0-9a-f]{16}$/;
