/**
 * Every statement the PostgreSQL store runs. Each lookup goes through a primary key or an
 * index (test/store-postgres.test.ts checks EXPLAIN with sequential scans disabled).
 *
 * Single use holds under READ COMMITTED without locks taken by hand: the guarded
 * `UPDATE … WHERE used_at IS NULL RETURNING` makes a second, concurrent caller wait for the
 * first, then re-check the row it changed and find it used, so exactly one gets the row.
 * Statements that write two tables at once use data-modifying CTEs: one statement, so all
 * of it or none of it happens, without a transaction's extra round trips.
 */
/** A WeChat binding is an identity of provider 'wechat-mini': realm = AppID, subject = openId. */
const BINDING = "realm AS app_id, subject AS open_id, union_id, user_id, created_at";
/** A password credential: realm = `password:<appId>`, subject = the normalised username, secret_hash = the PHC string. */
const PASSWORD = "realm, subject AS username, user_id, secret_hash AS password_hash, created_at, updated_at";

export const PG_SQL = {
  insertUser: `INSERT INTO users (name, created_at) VALUES ($1, $2) RETURNING user_id, name, created_at`,
  // The membership in the same statement: an unknown corp fails the foreign key and no user is left.
  insertUserInCorp: `WITH u AS (INSERT INTO users (name, created_at) VALUES ($1, $2) RETURNING user_id, name, created_at),
                          m AS (INSERT INTO corp_members (corp_id, user_id, joined_at) SELECT $3, user_id, $2 FROM u)
                     SELECT user_id, name, created_at FROM u`,
  getUser: `SELECT user_id, name, created_at, phone FROM users WHERE user_id = $1`,
  setUserPhone: `UPDATE users SET phone = $1 WHERE user_id = $2`,
  userIdByPhone: `SELECT user_id FROM users WHERE phone = $1`,

  upsertCorp: `INSERT INTO corps (corp_id, corp_name) VALUES ($1, $2)
               ON CONFLICT (corp_id) DO UPDATE SET corp_name = excluded.corp_name`,
  /**
   * Register's organisation: created when missing, renamed only when the name differs, and
   * the membership, in one statement. Unlike upsertCorp's DO UPDATE, which locks the corp's
   * row until COMMIT even when nothing changes, this leaves the row unlocked in the common
   * case, so concurrent registrations into one organisation do not queue behind each other.
   */
  joinCorp: `WITH ins AS (INSERT INTO corps (corp_id, corp_name) VALUES ($1, $2) ON CONFLICT (corp_id) DO NOTHING),
                  ren AS (UPDATE corps SET corp_name = $2 WHERE corp_id = $1 AND corp_name IS DISTINCT FROM $2)
             INSERT INTO corp_members (corp_id, user_id, joined_at) VALUES ($1, $3, $4)
             ON CONFLICT (corp_id, user_id) DO NOTHING`,
  addMember: `INSERT INTO corp_members (corp_id, user_id, joined_at) VALUES ($1, $2, $3)
              ON CONFLICT (corp_id, user_id) DO NOTHING`,
  listUserCorps: `SELECT c.corp_id, c.corp_name FROM corp_members m JOIN corps c ON c.corp_id = m.corp_id
                  WHERE m.user_id = $1 ORDER BY m.joined_at, m.corp_id`,

  bindingByOpenId: `SELECT ${BINDING} FROM identities WHERE provider = 'wechat-mini' AND realm = $1 AND subject = $2`,
  bindingByUser: `SELECT ${BINDING} FROM identities WHERE provider = 'wechat-mini' AND realm = $1 AND user_id = $2`,
  userIdByUnionId: `SELECT user_id FROM identities WHERE union_id = $1 AND provider = 'wechat-mini'
                    ORDER BY created_at, identity_id LIMIT 1`,
  /**
   * The binding and the removal of its unbound mark, or nothing when either unique rule is
   * taken (no row back: the store then reads which one); an unknown user fails the foreign key.
   */
  insertBinding: `WITH b AS (INSERT INTO identities (provider, realm, subject, union_id, user_id, created_at, updated_at)
                             VALUES ('wechat-mini', $1, $2, $3, $4, $5, $5)
                             ON CONFLICT DO NOTHING RETURNING ${BINDING}),
                       cleared AS (DELETE FROM unbound_identities x USING b
                                   WHERE x.provider = 'wechat-mini' AND x.realm = b.app_id AND x.subject = b.open_id)
                  SELECT * FROM b`,
  /** A new user bound at once (register): the user, its binding and the cleared unbound mark in one statement. */
  insertBoundUser: `WITH u AS (INSERT INTO users (name, created_at) VALUES ($1, $2) RETURNING user_id, name, created_at),
                         b AS (INSERT INTO identities (provider, realm, subject, union_id, user_id, created_at, updated_at)
                               SELECT 'wechat-mini', $3, $4, $5, user_id, $2, $2 FROM u),
                         cleared AS (DELETE FROM unbound_identities WHERE provider = 'wechat-mini' AND realm = $3 AND subject = $4)
                    SELECT user_id, name, created_at FROM u`,
  /**
   * Unbind in one statement: the binding goes, its unbound mark is set, and what the
   * identity issued goes with it (its unused login codes are voided, its sessions ended).
   */
  deleteBinding: `WITH d AS (DELETE FROM identities WHERE provider = 'wechat-mini' AND realm = $1 AND user_id = $2
                              RETURNING realm AS app_id, subject AS open_id),
                       voided AS (UPDATE login_codes c SET used_at = $3 FROM d
                                  WHERE c.app_id = d.app_id AND c.open_id = d.open_id AND c.used_at IS NULL),
                       ended AS (DELETE FROM login_sessions s USING d WHERE s.app_id = d.app_id AND s.open_id = d.open_id)
                  INSERT INTO unbound_identities (provider, realm, subject, unbound_at) SELECT 'wechat-mini', app_id, open_id, $3 FROM d
                  ON CONFLICT (provider, realm, subject) DO UPDATE SET unbound_at = excluded.unbound_at`,
  wasUnbound: `SELECT 1 AS unbound FROM unbound_identities WHERE provider = 'wechat-mini' AND realm = $1 AND subject = $2`,

  insertBindCode: `INSERT INTO bind_codes (code_hash, app_id, open_id, union_id, expires_at, created_at) VALUES ($1, $2, $3, $4, $5, $6)`,
  consumeBindCode: `UPDATE bind_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL
                    RETURNING app_id, open_id, union_id, expires_at`,
  insertLoginCode: `INSERT INTO login_codes (code_hash, app_id, user_id, expires_at, created_at, login_type, open_id)
                    VALUES ($1, $2, $3, $4, $5, $6, $7)`,
  consumeLoginCode: `UPDATE login_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL
                     RETURNING app_id, user_id, expires_at, login_type, open_id`,
  // The same guarded update, taken only when the user is in the corp (or the code has
  // expired: an expired code is spent whatever the corp). Under READ COMMITTED a waiting
  // caller re-checks both conditions on the row the winner left.
  consumeLoginCodeInCorp: `UPDATE login_codes SET used_at = $1 WHERE code_hash = $2 AND used_at IS NULL
                             AND (expires_at <= $1 OR EXISTS (SELECT 1 FROM corp_members m WHERE m.corp_id = $3 AND m.user_id = login_codes.user_id))
                           RETURNING app_id, user_id, expires_at, login_type, open_id`,
  loginCodeUnused: `SELECT 1 AS unused FROM login_codes WHERE code_hash = $1 AND used_at IS NULL`,
  firstCorpOf: `SELECT corp_id FROM corp_members WHERE user_id = $1 ORDER BY joined_at, corp_id LIMIT 1`,

  insertSession: `INSERT INTO login_sessions (token_hash, user_id, corp_id, created_at, expires_at, login_type, app_id, open_id)
                  VALUES ($1, $2, $3, $4, $5, $6, $7, $8)`,
  getSession: `SELECT user_id, corp_id, created_at, expires_at, login_type, app_id, open_id FROM login_sessions
               WHERE token_hash = $1 AND expires_at > $2`,
  deleteSession: `DELETE FROM login_sessions WHERE token_hash = $1`,

  // An older write (smaller updated_at) never replaces a newer key.
  putSessionKey: `INSERT INTO session_keys (app_id, open_id, sealed, updated_at) VALUES ($1, $2, $3, $4)
                  ON CONFLICT (app_id, open_id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at
                  WHERE excluded.updated_at >= session_keys.updated_at`,
  getSessionKey: `SELECT sealed, updated_at FROM session_keys WHERE app_id = $1 AND open_id = $2`,

  /**
   * The ledger's claim in one statement: ON CONFLICT DO UPDATE locks the row and re-checks
   * the WHERE on its newest version, so of concurrent claimers at most one takes it. Answers
   * the holder only when it took the entry. Params: hash, appId, use, holder, leaseUntil,
   * expiresAt, now.
   */
  claimWxCode: `INSERT INTO wx_codes (code_hash, app_id, use_name, state, holder, sealed_answer, lease_until, expires_at)
                VALUES ($1, $2, $3, 'running', $4, NULL, $5, $6)
                ON CONFLICT (code_hash) DO UPDATE SET app_id = excluded.app_id, use_name = excluded.use_name, state = 'running',
                  holder = excluded.holder, sealed_answer = NULL, lease_until = excluded.lease_until, expires_at = excluded.expires_at
                WHERE wx_codes.expires_at <= $7
                   OR (wx_codes.use_name = excluded.use_name AND (wx_codes.state = 'open' OR (wx_codes.state = 'running' AND wx_codes.lease_until <= $7)))
                RETURNING holder`,
  getWxCode: `SELECT use_name, state, holder, sealed_answer, lease_until, expires_at FROM wx_codes WHERE code_hash = $1`,
  settleWxCode: `UPDATE wx_codes SET state = $1, sealed_answer = $2, lease_until = 0, expires_at = $3
                 WHERE code_hash = $4 AND holder = $5 AND state = 'running'`,

  // One UPSERT per hit: the row lock orders concurrent hits, each counts once. Params: key, now, windowMs.
  hitRateWindow: `INSERT INTO rate_windows (rate_key, count, reset_at) VALUES ($1, 1, $2::bigint + $3::bigint)
                   ON CONFLICT (rate_key) DO UPDATE SET
                     count = CASE WHEN rate_windows.reset_at <= $2::bigint THEN 1 ELSE rate_windows.count + 1 END,
                     reset_at = CASE WHEN rate_windows.reset_at <= $2::bigint THEN excluded.reset_at ELSE rate_windows.reset_at END
                   RETURNING count, reset_at`,

  // Failed-login backoff. $1: the keys' hashes.
  loginFailures: `SELECT key_hash, failures, locked_until, forget_at FROM login_failures WHERE key_hash = ANY($1::text[])`,
  /**
   * The first statement of recordLoginFailure's transaction: makes sure each key has a row (a
   * new one reads as forgotten), locks them in key order ($1 sorted; every process locks in
   * that order, so two never wait for each other in a cycle) and answers them as they stand,
   * concurrent failures committed before included. The no-op update is what takes the lock.
   */
  lockLoginFailures: `INSERT INTO login_failures AS f (key_hash, failures, locked_until, forget_at)
                      SELECT k, 0, 0, 0 FROM unnest($1::text[]) AS k ORDER BY k
                      ON CONFLICT (key_hash) DO UPDATE SET failures = f.failures
                      RETURNING key_hash, failures, locked_until, forget_at`,
  // The rows advanced by loginFailures.ts, written back under the same locks. $1..$4: parallel arrays.
  putLoginFailures: `UPDATE login_failures AS f SET failures = u.failures, locked_until = u.locked_until, forget_at = u.forget_at
                     FROM unnest($1::text[], $2::integer[], $3::bigint[], $4::bigint[]) AS u(key_hash, failures, locked_until, forget_at)
                     WHERE f.key_hash = u.key_hash`,
  clearLoginFailures: `DELETE FROM login_failures WHERE key_hash = ANY($1::text[])`,

  // One statement, six tables; each DELETE finds its rows through the expiry or use index.
  purge: `WITH b AS (DELETE FROM bind_codes WHERE expires_at <= $1 OR used_at <= $1 RETURNING 1),
               l AS (DELETE FROM login_codes WHERE expires_at <= $1 OR used_at <= $1 RETURNING 1),
               s AS (DELETE FROM login_sessions WHERE expires_at <= $1 RETURNING 1),
               w AS (DELETE FROM wx_codes WHERE expires_at <= $1 AND (state <> 'running' OR lease_until <= $1) RETURNING 1),
               r AS (DELETE FROM rate_windows WHERE reset_at <= $1 RETURNING 1),
               f AS (DELETE FROM login_failures WHERE forget_at <= $1 RETURNING 1)
          SELECT (SELECT count(*) FROM b) AS bind_codes, (SELECT count(*) FROM l) AS login_codes, (SELECT count(*) FROM s) AS sessions,
                 (SELECT count(*) FROM w) AS wx_codes, (SELECT count(*) FROM r) AS rate_windows, (SELECT count(*) FROM f) AS login_failures`,

  getAccessToken: `SELECT sealed, expires_at, lease_owner, lease_until FROM wechat_access_tokens WHERE app_id = $1`,
  // The lease, taken only while it is free and the stored token is missing or stale. Under
  // READ COMMITTED, ON CONFLICT DO UPDATE locks the row and re-checks the WHERE on its newest
  // version, so of concurrent callers exactly one gets a row count of 1.
  claimTokenFetch: `INSERT INTO wechat_access_tokens AS t (app_id, lease_owner, lease_until) VALUES ($1, $2, $3)
                    ON CONFLICT (app_id) DO UPDATE SET lease_owner = excluded.lease_owner, lease_until = excluded.lease_until
                    WHERE t.lease_until <= $4 AND (t.sealed IS NULL OR t.expires_at <= $5)`,
  // Stores a fetched token ($3 not null) and frees the lease if $2 still holds it.
  saveAccessToken: `INSERT INTO wechat_access_tokens AS t (app_id, sealed, expires_at) VALUES ($1, $3::text, $4)
                    ON CONFLICT (app_id) DO UPDATE SET
                      sealed = COALESCE(excluded.sealed, t.sealed),
                      expires_at = CASE WHEN excluded.sealed IS NULL THEN t.expires_at ELSE excluded.expires_at END,
                      lease_owner = CASE WHEN t.lease_owner = $2 THEN NULL ELSE t.lease_owner END,
                      lease_until = CASE WHEN t.lease_owner = $2 THEN 0 ELSE t.lease_until END`,
  invalidateAccessToken: `UPDATE wechat_access_tokens SET expires_at = 0 WHERE app_id = $1 AND sealed = $2`,
  // $1 appId, $2 day, $3 now, $4 now - minIntervalMs, $5 maxPerDay.
  claimForceRefresh: `INSERT INTO wechat_access_tokens AS t (app_id, force_day, force_count, last_force_at) VALUES ($1, $2, 1, $3)
                      ON CONFLICT (app_id) DO UPDATE SET
                        force_count = CASE WHEN t.force_day = excluded.force_day THEN t.force_count + 1 ELSE 1 END,
                        force_day = excluded.force_day, last_force_at = excluded.last_force_at
                      WHERE t.last_force_at <= $4 AND (t.force_day <> excluded.force_day OR t.force_count < $5)`,

  ping: `SELECT 1 AS ok FROM users WHERE user_id = 0`,

  passwordByUsername: `SELECT ${PASSWORD} FROM identities WHERE provider = 'password' AND realm = $1 AND subject = $2`,
  passwordByUser: `SELECT ${PASSWORD} FROM identities WHERE user_id = $1 AND provider = 'password' AND realm = $2`,
  // The user and its credential in one statement; a taken username fails it whole
  // (identities_subject), inside registerPasswordUser's transaction.
  insertPasswordUser: `WITH u AS (INSERT INTO users (name, created_at) VALUES ($1, $2) RETURNING user_id, name, created_at),
                            p AS (INSERT INTO identities (provider, realm, subject, user_id, secret_hash, created_at, updated_at)
                                  SELECT 'password', $3, $4, user_id, $5, $2, $2 FROM u)
                       SELECT user_id, name, created_at FROM u`,
  insertPassword: `INSERT INTO identities (provider, realm, subject, user_id, secret_hash, created_at, updated_at)
                   VALUES ('password', $1, $2, $3, $4, $5, $5)`,
  // A new hash; with $5 true, also void the credential's unused login codes and end every
  // other session of the user ($6: the caller's token hash, kept; NULL keeps none).
  updatePassword: `WITH u AS (UPDATE identities SET secret_hash = $1, updated_at = $2
                              WHERE user_id = $3 AND provider = 'password' AND realm = $4
                              RETURNING realm, subject AS username, user_id),
                        voided AS (UPDATE login_codes c SET used_at = $2 FROM u
                                   WHERE $5 AND c.app_id = u.realm AND c.open_id = u.username AND c.used_at IS NULL),
                        ended AS (DELETE FROM login_sessions s USING u WHERE $5 AND s.user_id = u.user_id AND s.token_hash IS DISTINCT FROM $6)
                   SELECT username FROM u`,
  // Removal: what the credential issued goes with it (as deleteBinding).
  deletePassword: `WITH d AS (DELETE FROM identities WHERE user_id = $1 AND provider = 'password' AND realm = $2
                              RETURNING realm, subject AS username),
                        voided AS (UPDATE login_codes c SET used_at = $3 FROM d
                                   WHERE c.app_id = d.realm AND c.open_id = d.username AND c.used_at IS NULL),
                        ended AS (DELETE FROM login_sessions s USING d WHERE s.app_id = d.realm AND s.open_id = d.username)
                   SELECT username FROM d`,
} as const;

export type PgStatementName = keyof typeof PG_SQL;
