import type { SyncStatement, UnitContext } from "jit-runtime/element";

/**
 * Every statement the SQLite store runs, prepared once per store. Each lookup goes through
 * a primary key or an index (test/store-sqlite.test.ts checks EXPLAIN QUERY PLAN), so
 * logins stay flat with a million users.
 *
 * Single-use codes: the guarded `UPDATE … WHERE used_at IS NULL RETURNING` marks a code
 * used and hands back its row in one statement; SQLite's single writer guarantees at most
 * one caller, in any process, gets the row.
 */
const BINDING = "realm AS app_id, subject AS open_id, union_id, user_id, created_at";
const PASSWORD = "realm, subject AS username, user_id, secret_hash AS password_hash, created_at, updated_at";

export const SQL = {
  insertUser: `INSERT INTO users (name, created_at) VALUES (?, ?) RETURNING user_id, name, created_at`,
  getUser: `SELECT user_id, name, created_at, phone FROM users WHERE user_id = ?`,
  setUserPhone: `UPDATE users SET phone = ? WHERE user_id = ?`,
  userIdByPhone: `SELECT user_id FROM users WHERE phone = ?`,

  upsertCorp: `INSERT INTO corps (corp_id, corp_name) VALUES (?, ?)
               ON CONFLICT (corp_id) DO UPDATE SET corp_name = excluded.corp_name`,
  getCorp: `SELECT corp_id FROM corps WHERE corp_id = ?`,
  addMember: `INSERT INTO corp_members (corp_id, user_id, joined_at) VALUES (?, ?, ?)
              ON CONFLICT (corp_id, user_id) DO NOTHING`,
  listUserCorps: `SELECT c.corp_id, c.corp_name FROM corp_members m JOIN corps c ON c.corp_id = m.corp_id
                  WHERE m.user_id = ? ORDER BY m.joined_at, m.corp_id`,

  // A WeChat binding is an identity of provider 'wechat-mini': realm = AppID, subject = openId.
  bindingByOpenId: `SELECT ${BINDING} FROM identities WHERE provider = 'wechat-mini' AND realm = ? AND subject = ?`,
  bindingByUser: `SELECT ${BINDING} FROM identities WHERE provider = 'wechat-mini' AND realm = ? AND user_id = ?`,
  userIdByUnionId: `SELECT user_id FROM identities WHERE union_id = ? AND provider = 'wechat-mini'
                    ORDER BY created_at, identity_id LIMIT 1`,
  // Params: appId, openId, unionId, userId, now, now.
  insertBinding: `INSERT INTO identities (provider, realm, subject, union_id, user_id, created_at, updated_at)
                  VALUES ('wechat-mini', ?, ?, ?, ?, ?, ?)`,
  deleteBinding: `DELETE FROM identities WHERE provider = 'wechat-mini' AND realm = ? AND user_id = ? RETURNING subject AS open_id`,
  markUnbound: `INSERT INTO unbound_identities (provider, realm, subject, unbound_at) VALUES ('wechat-mini', ?, ?, ?)
                ON CONFLICT (provider, realm, subject) DO UPDATE SET unbound_at = excluded.unbound_at`,
  wasUnbound: `SELECT 1 AS unbound FROM unbound_identities WHERE provider = 'wechat-mini' AND realm = ? AND subject = ?`,
  clearUnbound: `DELETE FROM unbound_identities WHERE provider = 'wechat-mini' AND realm = ? AND subject = ?`,

  insertBindCode: `INSERT INTO bind_codes (code_hash, app_id, open_id, union_id, expires_at, created_at) VALUES (?, ?, ?, ?, ?, ?)`,
  consumeBindCode: `UPDATE bind_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL
                    RETURNING app_id, open_id, union_id, expires_at`,
  insertLoginCode: `INSERT INTO login_codes (code_hash, app_id, user_id, expires_at, created_at, login_type, open_id) VALUES (?, ?, ?, ?, ?, ?, ?)`,
  consumeLoginCode: `UPDATE login_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL
                     RETURNING app_id, user_id, expires_at, login_type, open_id`,
  // The same guarded update, taken only when the user is in the corp (or the code has
  // expired: an expired code is spent whatever the corp). Params: now, hash, now, corpId.
  consumeLoginCodeInCorp: `UPDATE login_codes SET used_at = ? WHERE code_hash = ? AND used_at IS NULL
                             AND (expires_at <= ? OR EXISTS (SELECT 1 FROM corp_members m WHERE m.corp_id = ? AND m.user_id = login_codes.user_id))
                           RETURNING app_id, user_id, expires_at, login_type, open_id`,
  loginCodeUnused: `SELECT 1 AS unused FROM login_codes WHERE code_hash = ? AND used_at IS NULL`,
  firstCorpOf: `SELECT corp_id FROM corp_members WHERE user_id = ? ORDER BY joined_at, corp_id LIMIT 1`,
  // Unbind: what the identity issued goes with it.
  voidLoginCodesOf: `UPDATE login_codes SET used_at = ? WHERE app_id = ? AND open_id = ? AND used_at IS NULL`,
  endSessionsOf: `DELETE FROM login_sessions WHERE app_id = ? AND open_id = ?`,

  // A password credential is an identity of provider 'password': realm = `password:<appId>`,
  // subject = the normalised username, secret_hash = the PHC string.
  passwordByUsername: `SELECT ${PASSWORD} FROM identities WHERE provider = 'password' AND realm = ? AND subject = ?`,
  passwordByUser: `SELECT ${PASSWORD} FROM identities WHERE user_id = ? AND provider = 'password' AND realm = ?`,
  insertPassword: `INSERT INTO identities (provider, realm, subject, user_id, secret_hash, created_at, updated_at)
                   VALUES ('password', ?, ?, ?, ?, ?, ?)`,
  updatePassword: `UPDATE identities SET secret_hash = ?, updated_at = ? WHERE user_id = ? AND provider = 'password' AND realm = ?
                   RETURNING subject AS username`,
  deletePassword: `DELETE FROM identities WHERE user_id = ? AND provider = 'password' AND realm = ? RETURNING subject AS username`,
  // A password change: every other session of the user ends (token_hash IS NOT ? keeps the caller's, or none for NULL).
  endOtherSessionsOf: `DELETE FROM login_sessions WHERE user_id = ? AND token_hash IS NOT ?`,

  insertSession: `INSERT INTO login_sessions (token_hash, user_id, corp_id, created_at, expires_at, login_type, app_id, open_id)
                  VALUES (?, ?, ?, ?, ?, ?, ?, ?)`,
  getSession: `SELECT user_id, corp_id, created_at, expires_at, login_type, app_id, open_id FROM login_sessions
               WHERE token_hash = ? AND expires_at > ?`,
  deleteSession: `DELETE FROM login_sessions WHERE token_hash = ?`,
  // The console names a session by its hash prefix, always within one user's sessions.
  deleteUserSession: `DELETE FROM login_sessions WHERE user_id = ? AND substr(token_hash, 1, 16) = ?`,

  // An older write (smaller updated_at) never replaces a newer key.
  putSessionKey: `INSERT INTO session_keys (app_id, open_id, sealed, updated_at) VALUES (?, ?, ?, ?)
                  ON CONFLICT (app_id, open_id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                  WHERE excluded.updated_at >= session_keys.updated_at`,
  getSessionKey: `SELECT sealed, updated_at FROM session_keys WHERE app_id = ? AND open_id = ?`,

  getAccessToken: `SELECT sealed, expires_at, lease_owner, lease_until FROM wechat_access_tokens WHERE app_id = ?`,
  // The lease, taken only while it is free and the stored token is missing or stale.
  // Params: appId, owner, leaseUntil, now, staleAt.
  claimTokenFetch: `INSERT INTO wechat_access_tokens (app_id, lease_owner, lease_until) VALUES (?, ?, ?)
                    ON CONFLICT (app_id) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
                    WHERE wechat_access_tokens.lease_until <= ? AND (wechat_access_tokens.sealed IS NULL OR wechat_access_tokens.expires_at <= ?)`,
  storeAccessToken: `INSERT INTO wechat_access_tokens (app_id, sealed, expires_at) VALUES (?, ?, ?)
                     ON CONFLICT (app_id) DO UPDATE SET sealed = excluded.sealed, expires_at = excluded.expires_at`,
  releaseTokenLease: `UPDATE wechat_access_tokens SET lease_owner = NULL, lease_until = 0 WHERE app_id = ? AND lease_owner = ?`,
  invalidateAccessToken: `UPDATE wechat_access_tokens SET expires_at = 0 WHERE app_id = ? AND sealed = ?`,
  // Params: appId, day, now, now - minIntervalMs, maxPerDay.
  claimForceRefresh: `INSERT INTO wechat_access_tokens (app_id, force_day, force_count, last_force_at) VALUES (?, ?, 1, ?)
                      ON CONFLICT (app_id) DO UPDATE SET
                        force_count = CASE WHEN force_day = excluded.force_day THEN force_count + 1 ELSE 1 END,
                        force_day = excluded.force_day, last_force_at = excluded.last_force_at
                      WHERE last_force_at <= ? AND (force_day <> excluded.force_day OR force_count < ?)`,

  // Params: hash, appId, use, holder, leaseUntil, expiresAt, now, now.
  claimWxCode: `INSERT INTO wx_codes (code_hash, app_id, use_name, state, holder, sealed_answer, lease_until, expires_at)
                VALUES (?, ?, ?, 'running', ?, NULL, ?, ?)
                ON CONFLICT (code_hash) DO UPDATE SET app_id = excluded.app_id, use_name = excluded.use_name, state = 'running',
                  holder = excluded.holder, sealed_answer = NULL, lease_until = excluded.lease_until, expires_at = excluded.expires_at
                WHERE wx_codes.expires_at <= ?
                   OR (wx_codes.use_name = excluded.use_name AND (wx_codes.state = 'open' OR (wx_codes.state = 'running' AND wx_codes.lease_until <= ?)))
                RETURNING holder`,
  getWxCode: `SELECT use_name, state, holder, sealed_answer, lease_until, expires_at FROM wx_codes WHERE code_hash = ?`,
  // Params: state, sealed, expiresAt, hash, holder.
  settleWxCode: `UPDATE wx_codes SET state = ?, sealed_answer = ?, lease_until = 0, expires_at = ?
                 WHERE code_hash = ? AND holder = ? AND state = 'running'`,
  purgeWxCodes: `DELETE FROM wx_codes WHERE expires_at <= ? AND (state <> 'running' OR lease_until <= ?)`,

  // Params: key, now, windowMs, now, now.
  hitRateWindow: `INSERT INTO rate_windows (rate_key, count, reset_at) VALUES (?, 1, ? + ?)
                   ON CONFLICT (rate_key) DO UPDATE SET
                     count = CASE WHEN rate_windows.reset_at <= ? THEN 1 ELSE rate_windows.count + 1 END,
                     reset_at = CASE WHEN rate_windows.reset_at <= ? THEN excluded.reset_at ELSE rate_windows.reset_at END
                   RETURNING count, reset_at`,
  purgeRateWindows: `DELETE FROM rate_windows WHERE reset_at <= ?`,

  // Failed-login backoff: read, then (in the write unit, under the write lock) written back
  // with the arithmetic of loginFailures.ts.
  getLoginFailure: `SELECT failures, locked_until, forget_at FROM login_failures WHERE key_hash = ?`,
  // Params: key, failures, lockedUntil, forgetAt.
  putLoginFailure: `INSERT INTO login_failures (key_hash, failures, locked_until, forget_at) VALUES (?, ?, ?, ?)
                    ON CONFLICT (key_hash) DO UPDATE SET failures = excluded.failures, locked_until = excluded.locked_until,
                      forget_at = excluded.forget_at`,
  clearLoginFailure: `DELETE FROM login_failures WHERE key_hash = ?`,
  purgeLoginFailures: `DELETE FROM login_failures WHERE forget_at <= ?`,

  purgeBindExpired: `DELETE FROM bind_codes WHERE expires_at <= ?`,
  purgeBindUsed: `DELETE FROM bind_codes WHERE used_at <= ?`,
  purgeLoginExpired: `DELETE FROM login_codes WHERE expires_at <= ?`,
  purgeLoginUsed: `DELETE FROM login_codes WHERE used_at <= ?`,
  purgeSessions: `DELETE FROM login_sessions WHERE expires_at <= ?`,

  // Reads a b-tree page through the primary key, so the file itself answers (a bare SELECT 1
  // never touches it); no row has id 0.
  ping: `SELECT 1 AS ok FROM users WHERE user_id = 0`,
  schemaVersion: `SELECT max(version) AS version FROM jit_migrations WHERE owner = 'auths'`,
} as const;

export type StatementName = keyof typeof SQL;
export type Statements = { [K in StatementName]: SyncStatement };

export function prepareAll(ctx: Pick<UnitContext, "prepare">): Statements {
  const out = {} as Statements;
  for (const name of Object.keys(SQL) as StatementName[]) out[name] = ctx.prepare(SQL[name]);
  return out;
}
