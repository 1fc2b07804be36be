import type { Migration, Transaction } from "jit-runtime/element";

/**
 * The login family's schema on SQLite, as migrations of the owner "auths" (the handle keeps
 * their ledger, runtime/database/migrations.ts). Never edit a released migration: append one.
 *
 * Times are integer epoch milliseconds. Codes and tokens are stored only as SHA-256 hex.
 * Versions 1-9 were written before the ledger existed; a database from then records them in
 * `PRAGMA user_version`, which adoptSqlite reads.
 */

const BEFORE_LEDGER: readonly Migration[] = [
  {
    version: 1,
    name: "identity",
    sql: `
      CREATE TABLE users (
        user_id    INTEGER PRIMARY KEY AUTOINCREMENT, -- never reuse the id of a deleted user
        name       TEXT,
        created_at INTEGER NOT NULL
      );

      CREATE TABLE corps (
        corp_id   TEXT PRIMARY KEY,
        corp_name TEXT NOT NULL
      );

      CREATE TABLE corp_members (
        corp_id   TEXT    NOT NULL REFERENCES corps(corp_id) ON DELETE CASCADE,
        user_id   INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        joined_at INTEGER NOT NULL,
        PRIMARY KEY (corp_id, user_id)
      );
      CREATE INDEX corp_members_by_user ON corp_members(user_id, joined_at);

      CREATE TABLE wechat_mini_bindings (
        app_id     TEXT    NOT NULL,
        open_id    TEXT    NOT NULL,
        union_id   TEXT,
        user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        created_at INTEGER NOT NULL,
        UNIQUE (app_id, open_id),
        -- one identity per user and mini program; user_id first so that this index also
        -- serves the foreign-key checks on users
        UNIQUE (user_id, app_id)
      );
      CREATE INDEX wechat_mini_bindings_by_union ON wechat_mini_bindings(union_id, created_at)
        WHERE union_id IS NOT NULL;

      CREATE TABLE bind_codes (
        code_hash  TEXT    PRIMARY KEY,
        app_id     TEXT    NOT NULL,
        open_id    TEXT    NOT NULL,
        union_id   TEXT,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX bind_codes_by_expiry ON bind_codes(expires_at);
      CREATE INDEX bind_codes_by_use ON bind_codes(used_at) WHERE used_at IS NOT NULL;

      CREATE TABLE login_codes (
        code_hash  TEXT    PRIMARY KEY,
        app_id     TEXT    NOT NULL,
        user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        expires_at INTEGER NOT NULL,
        used_at    INTEGER,
        created_at INTEGER NOT NULL
      );
      CREATE INDEX login_codes_by_expiry ON login_codes(expires_at);
      CREATE INDEX login_codes_by_use ON login_codes(used_at) WHERE used_at IS NOT NULL;
      CREATE INDEX login_codes_by_user ON login_codes(user_id); -- foreign-key checks stay indexed

      -- corp_id is the organisation chosen at login; no foreign key so that renaming or
      -- removing an organisation never blocks logging out.
      CREATE TABLE login_sessions (
        token_hash TEXT    PRIMARY KEY,
        user_id    INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        corp_id    TEXT,
        created_at INTEGER NOT NULL,
        expires_at INTEGER NOT NULL
      );
      CREATE INDEX login_sessions_by_user ON login_sessions(user_id);
      CREATE INDEX login_sessions_by_expiry ON login_sessions(expires_at);

      CREATE TABLE session_keys (
        app_id     TEXT    NOT NULL,
        open_id    TEXT    NOT NULL,
        sealed     TEXT    NOT NULL, -- AES-256-GCM envelope from the vault, never the clear key
        updated_at INTEGER NOT NULL,
        PRIMARY KEY (app_id, open_id)
      );
    `,
  },
  {
    version: 2,
    name: "unbound identities",
    // One row per (appId, openId) whose binding was removed by unbind: the unionId auto-link
    // at login must not silently bind it again. An explicit bind or register removes the row.
    // Identities unbound before this migration have no row (that history was not kept).
    sql: `
      CREATE TABLE wechat_mini_unbound (
        app_id     TEXT    NOT NULL,
        open_id    TEXT    NOT NULL,
        unbound_at INTEGER NOT NULL,
        PRIMARY KEY (app_id, open_id)
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 3,
    name: "login origin",
    // Which login Type and identity (appId, openId) issued a login code and opened a session,
    // so unbinding that identity voids its unused login codes and ends its sessions. Rows from
    // before this migration have no origin (NULL) and are left alone by unbind.
    sql: `
      ALTER TABLE login_codes ADD COLUMN login_type TEXT;
      ALTER TABLE login_codes ADD COLUMN open_id TEXT;
      CREATE INDEX login_codes_by_identity ON login_codes(app_id, open_id) WHERE used_at IS NULL AND open_id IS NOT NULL;

      ALTER TABLE login_sessions ADD COLUMN login_type TEXT;
      ALTER TABLE login_sessions ADD COLUMN app_id TEXT;
      ALTER TABLE login_sessions ADD COLUMN open_id TEXT;
      CREATE INDEX login_sessions_by_identity ON login_sessions(app_id, open_id) WHERE open_id IS NOT NULL;
    `,
  },
  {
    version: 4,
    name: "bindings by openId",
    // The console finds a user by openId across mini programs; the (app_id, open_id) key
    // cannot serve a lookup without the app_id.
    sql: `CREATE INDEX wechat_mini_bindings_by_open_id ON wechat_mini_bindings(open_id);`,
  },
  {
    version: 5,
    name: "password credentials",
    // Username and password logins. realm is "password:<appId>" (usernames are unique per
    // app); username is normalised (NFKC, case-folded); password_hash is a PHC string
    // ($scrypt$ln=..,r=..,p=..$salt$hash) that carries its parameters, so they can be raised
    // later. The constraints are named so a conflict is reported by name.
    sql: `
      CREATE TABLE password_credentials (
        realm         TEXT    NOT NULL,
        username      TEXT    NOT NULL,
        user_id       INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
        password_hash TEXT    NOT NULL,
        created_at    INTEGER NOT NULL,
        updated_at    INTEGER NOT NULL,
        CONSTRAINT password_credentials_username UNIQUE (realm, username),
        CONSTRAINT password_credentials_user UNIQUE (user_id, realm)
      );
    `,
  },
  {
    version: 6,
    name: "phone numbers and access tokens",
    // A user's phone number ("+<country code><number>"), unique where set: a number is an
    // identity, never shared by two users. One access-token row per AppID, shared by every
    // process: the token sealed by the vault, the fetch lease (one fetcher at a time) and
    // the force_refresh quota WeChat allows (per day, and a minimum interval).
    sql: `
      ALTER TABLE users ADD COLUMN phone TEXT;
      CREATE UNIQUE INDEX users_by_phone ON users(phone) WHERE phone IS NOT NULL;

      CREATE TABLE wechat_access_tokens (
        app_id        TEXT    PRIMARY KEY,
        sealed        TEXT,                       -- AES-256-GCM envelope from the vault
        expires_at    INTEGER NOT NULL DEFAULT 0,
        lease_owner   TEXT,
        lease_until   INTEGER NOT NULL DEFAULT 0,
        force_day     INTEGER NOT NULL DEFAULT 0,
        force_count   INTEGER NOT NULL DEFAULT 0,
        last_force_at INTEGER NOT NULL DEFAULT 0
      ) WITHOUT ROWID;
    `,
  },
  {
    version: 7,
    name: "wx code ledger",
    // The wx.login code ledger, shared by every process on the database: per code (SHA-256),
    // the use that owns it, where its one WeChat exchange stands (running under a lease,
    // answered, spent, or open again after a failure WeChat never saw) and, for a login, the
    // answer sealed by the vault, so a repeat in any process gets the same login code.
    sql: `
      CREATE TABLE wx_codes (
        code_hash     TEXT    PRIMARY KEY,
        app_id        TEXT    NOT NULL,
        use_name      TEXT    NOT NULL,
        state         TEXT    NOT NULL CHECK (state IN ('running', 'answered', 'spent', 'open')),
        holder        TEXT    NOT NULL,
        sealed_answer TEXT, -- AES-256-GCM envelope from the vault, never the answer in clear
        lease_until   INTEGER NOT NULL,
        expires_at    INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX wx_codes_by_expiry ON wx_codes(expires_at);
    `,
  },
  {
    version: 8,
    name: "rate windows",
    // Fixed-window rate-limit counts shared by the processes serving one database.
    sql: `
      CREATE TABLE rate_windows (
        rate_key TEXT    PRIMARY KEY,
        count    INTEGER NOT NULL,
        reset_at INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX rate_windows_by_reset ON rate_windows(reset_at);
    `,
  },
  {
    version: 9,
    name: "login failures",
    // Failed-login backoff shared by every process on the database and kept across restarts:
    // per key (the SHA-256 of a username, an address, or both, never the key in clear) the
    // failures counted, the lock they earned and when they are forgotten, the lock ended
    // (purgeExpired deletes the row from then on).
    sql: `
      CREATE TABLE login_failures (
        key_hash     TEXT    PRIMARY KEY,
        failures     INTEGER NOT NULL,
        locked_until INTEGER NOT NULL,
        forget_at    INTEGER NOT NULL
      ) WITHOUT ROWID;
      CREATE INDEX login_failures_by_forget ON login_failures(forget_at);
    `,
  },
];


/**
 * Version 10 (both dialects share its shape, see ./postgres.ts): WeChat bindings and password
 * credentials become rows of one identities table keyed by (provider, realm, subject), so a
 * login Type adds rows, not tables. Every row is copied in insertion order (the unionId
 * auto-link picks the oldest binding), then the old tables go, in the same transaction as the
 * ledger row: a crash leaves the old schema or the new. The realm of a password identity stays
 * `password:<appId>`, the value that login codes and sessions already record as their origin.
 * The unique rules are named unique indexes, so the store reads which one a conflict broke by
 * name (SQLite names only indexes). user_version goes to 10 so that code from before the ledger
 * refuses this database ("newer than this runtime") instead of reading tables that are gone.
 */
const IDENTITIES: Migration = {
  version: 10,
  name: "identities",
  sql: `
    CREATE TABLE identities (
      identity_id INTEGER PRIMARY KEY AUTOINCREMENT,
      provider    TEXT    NOT NULL,
      realm       TEXT    NOT NULL,
      subject     TEXT    NOT NULL,
      user_id     INTEGER NOT NULL REFERENCES users(user_id) ON DELETE CASCADE,
      union_id    TEXT,
      secret_hash TEXT, -- a PHC string (password), never a secret in clear
      created_at  INTEGER NOT NULL,
      updated_at  INTEGER NOT NULL
    );
    CREATE UNIQUE INDEX identities_subject ON identities(provider, realm, subject);
    -- one identity per user, provider and realm; user_id first so that this index also serves
    -- the foreign-key checks on users
    CREATE UNIQUE INDEX identities_user ON identities(user_id, provider, realm);
    CREATE INDEX identities_by_union ON identities(union_id, created_at, identity_id) WHERE union_id IS NOT NULL;
    CREATE INDEX identities_by_subject ON identities(subject);

    INSERT INTO identities (provider, realm, subject, user_id, union_id, secret_hash, created_at, updated_at)
      SELECT 'wechat-mini', app_id, open_id, user_id, union_id, NULL, created_at, created_at
      FROM wechat_mini_bindings ORDER BY created_at, rowid;
    INSERT INTO identities (provider, realm, subject, user_id, union_id, secret_hash, created_at, updated_at)
      SELECT 'password', realm, username, user_id, NULL, password_hash, created_at, updated_at
      FROM password_credentials ORDER BY created_at, rowid;

    CREATE TABLE unbound_identities (
      provider   TEXT    NOT NULL,
      realm      TEXT    NOT NULL,
      subject    TEXT    NOT NULL,
      unbound_at INTEGER NOT NULL,
      PRIMARY KEY (provider, realm, subject)
    ) WITHOUT ROWID;
    INSERT INTO unbound_identities (provider, realm, subject, unbound_at)
      SELECT 'wechat-mini', app_id, open_id, unbound_at FROM wechat_mini_unbound;

    DROP TABLE wechat_mini_bindings;
    DROP TABLE password_credentials;
    DROP TABLE wechat_mini_unbound;
    PRAGMA user_version = 10;
  `,
};

export const MIGRATIONS: readonly Migration[] = [...BEFORE_LEDGER, IDENTITIES];

export const LATEST_VERSION = MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

/** A database from before the ledger: the versions it holds are its user_version (0 for a new file). */
export async function adoptSqlite(tx: Transaction): Promise<number> {
  const row = await tx.get<{ user_version: number }>("PRAGMA user_version");
  return row?.user_version ?? 0;
}
