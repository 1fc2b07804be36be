import type { Migration, Transaction } from "jit-runtime/element";

/**
 * The login family's schema on PostgreSQL, as migrations of the owner "auths" (the handle
 * keeps their ledger, runtime/database/migrations.ts). Never edit a released migration.
 *
 * The same tables as on SQLite (./sqlite.ts), with PostgreSQL's types: times are epoch
 * milliseconds in `bigint` (the handle parses int8 to a number), ids are identities that are
 * never reused, codes and tokens are stored only as SHA-256 hex. Unique rules are named
 * constraints: the store tells its conflicts apart by name. Versions 1-8 were written before
 * the ledger, in a table of their own (jit_schema_migrations), which adoptPostgres reads.
 */

const BEFORE_LEDGER: readonly Migration[] = [
  {
    version: 1,
    name: "identity",
    sql: `
      CREATE TABLE users (
        user_id    bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
        name       text,
        created_at bigint NOT NULL
      );

      CREATE TABLE corps (
        corp_id   text PRIMARY KEY,
        corp_name text NOT NULL
      );

      CREATE TABLE corp_members (
        corp_id   text   NOT NULL CONSTRAINT corp_members_corp_fk REFERENCES corps(corp_id) ON DELETE CASCADE,
        user_id   bigint NOT NULL CONSTRAINT corp_members_user_fk REFERENCES users(user_id) ON DELETE CASCADE,
        joined_at bigint NOT NULL,
        PRIMARY KEY (corp_id, user_id)
      );
      CREATE INDEX corp_members_by_user ON corp_members(user_id, joined_at, corp_id);

      CREATE TABLE wechat_mini_bindings (
        binding_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- insertion order, for "oldest first" among equal times
        app_id     text   NOT NULL,
        open_id    text   NOT NULL,
        union_id   text,
        user_id    bigint NOT NULL CONSTRAINT wechat_mini_bindings_user_fk REFERENCES users(user_id) ON DELETE CASCADE,
        created_at bigint NOT NULL,
        CONSTRAINT wechat_mini_bindings_identity_unique UNIQUE (app_id, open_id),
        -- one identity per user and mini program; user_id first so that this index also
        -- serves the foreign-key checks on users
        CONSTRAINT wechat_mini_bindings_user_unique UNIQUE (user_id, app_id)
      );
      CREATE INDEX wechat_mini_bindings_by_union ON wechat_mini_bindings(union_id, created_at, binding_id)
        WHERE union_id IS NOT NULL;

      CREATE TABLE wechat_mini_unbound (
        app_id     text   NOT NULL,
        open_id    text   NOT NULL,
        unbound_at bigint NOT NULL,
        PRIMARY KEY (app_id, open_id)
      );

      CREATE TABLE bind_codes (
        code_hash  text   PRIMARY KEY,
        app_id     text   NOT NULL,
        open_id    text   NOT NULL,
        union_id   text,
        expires_at bigint NOT NULL,
        used_at    bigint,
        created_at bigint NOT NULL
      );
      CREATE INDEX bind_codes_by_expiry ON bind_codes(expires_at);
      CREATE INDEX bind_codes_by_use ON bind_codes(used_at) WHERE used_at IS NOT NULL;

      CREATE TABLE login_codes (
        code_hash  text   PRIMARY KEY,
        app_id     text   NOT NULL,
        user_id    bigint NOT NULL CONSTRAINT login_codes_user_fk REFERENCES users(user_id) ON DELETE CASCADE,
        expires_at bigint NOT NULL,
        used_at    bigint,
        created_at bigint NOT NULL
      );
      CREATE INDEX login_codes_by_expiry ON login_codes(expires_at);
      CREATE INDEX login_codes_by_use ON login_codes(used_at) WHERE used_at IS NOT NULL;
      CREATE INDEX login_codes_by_user ON login_codes(user_id); -- foreign-key checks stay indexed

      -- corp_id is the organisation chosen at login; no foreign key so that renaming or
      -- removing an organisation never blocks logging out.
      CREATE TABLE login_sessions (
        token_hash text   PRIMARY KEY,
        user_id    bigint NOT NULL CONSTRAINT login_sessions_user_fk REFERENCES users(user_id) ON DELETE CASCADE,
        corp_id    text,
        created_at bigint NOT NULL,
        expires_at bigint NOT NULL
      );
      CREATE INDEX login_sessions_by_user ON login_sessions(user_id);
      CREATE INDEX login_sessions_by_expiry ON login_sessions(expires_at);

      CREATE TABLE session_keys (
        app_id     text   NOT NULL,
        open_id    text   NOT NULL,
        sealed     text   NOT NULL, -- AES-256-GCM envelope from the vault, never the clear key
        updated_at bigint NOT NULL,
        PRIMARY KEY (app_id, open_id)
      );
    `,
  },
  {
    version: 2,
    name: "login origin",
    // Which login Type and identity (appId, openId) issued a login code and opened a session,
    // so unbinding that identity voids its unused login codes and ends its sessions. Rows from
    // before this migration have no origin (NULL) and are left alone by unbind. A login
    // code's app_id is its origin's too (saveLoginCode refuses an origin in another one).
    sql: `
      ALTER TABLE login_codes ADD COLUMN login_type text;
      ALTER TABLE login_codes ADD COLUMN open_id text;
      CREATE INDEX login_codes_by_identity ON login_codes(app_id, open_id) WHERE used_at IS NULL AND open_id IS NOT NULL;

      ALTER TABLE login_sessions ADD COLUMN login_type text;
      ALTER TABLE login_sessions ADD COLUMN app_id text;
      ALTER TABLE login_sessions ADD COLUMN open_id text;
      CREATE INDEX login_sessions_by_identity ON login_sessions(app_id, open_id) WHERE open_id IS NOT NULL;
    `,
  },
  {
    version: 3,
    name: "bindings by openId",
    // The console finds a user by openId across mini programs; the (app_id, open_id) key
    // cannot serve a lookup without the app_id.
    sql: `CREATE INDEX wechat_mini_bindings_by_open_id ON wechat_mini_bindings(open_id);`,
  },
  {
    version: 4,
    name: "password credentials",
    // Username and password logins (the SQLite store's migration 5). realm is
    // "password:<appId>"; username is normalised (NFKC, case-folded); password_hash is a PHC
    // string that carries its parameters. Both unique rules are named, so a conflict is
    // told apart by constraint name.
    sql: `
      CREATE TABLE password_credentials (
        realm         text   NOT NULL,
        username      text   NOT NULL,
        user_id       bigint NOT NULL CONSTRAINT password_credentials_user_fk REFERENCES users(user_id) ON DELETE CASCADE,
        password_hash text   NOT NULL,
        created_at    bigint NOT NULL,
        updated_at    bigint NOT NULL,
        CONSTRAINT password_credentials_username UNIQUE (realm, username),
        CONSTRAINT password_credentials_user UNIQUE (user_id, realm)
      );
    `,
  },
  {
    version: 5,
    name: "phone numbers and access tokens",
    // A user's phone number ("+<country code><number>"), unique where set (NULLs are
    // distinct): a number is an identity, never shared by two users. One access-token row per
    // AppID, shared by every process: the token sealed by the vault, the fetch lease (one
    // fetcher at a time) and the force_refresh quota WeChat allows.
    sql: `
      ALTER TABLE users ADD COLUMN phone text;
      ALTER TABLE users ADD CONSTRAINT users_phone_unique UNIQUE (phone);

      CREATE TABLE wechat_access_tokens (
        app_id        text    PRIMARY KEY,
        sealed        text,                     -- AES-256-GCM envelope from the vault
        expires_at    bigint  NOT NULL DEFAULT 0,
        lease_owner   text,
        lease_until   bigint  NOT NULL DEFAULT 0,
        force_day     integer NOT NULL DEFAULT 0,
        force_count   integer NOT NULL DEFAULT 0,
        last_force_at bigint  NOT NULL DEFAULT 0
      );
    `,
  },
  {
    version: 6,
    name: "wx code ledger",
    // The wx.login code ledger, shared by every process on the database (see the SQLite
    // store's migration 7): per code (SHA-256), its use, where its one WeChat exchange stands,
    // and for a login the answer sealed by the vault.
    sql: `
      CREATE TABLE wx_codes (
        code_hash     text   PRIMARY KEY,
        app_id        text   NOT NULL,
        use_name      text   NOT NULL,
        state         text   NOT NULL CONSTRAINT wx_codes_state_check CHECK (state IN ('running', 'answered', 'spent', 'open')),
        holder        text   NOT NULL,
        sealed_answer text, -- AES-256-GCM envelope from the vault, never the answer in clear
        lease_until   bigint NOT NULL,
        expires_at    bigint NOT NULL
      );
      CREATE INDEX wx_codes_by_expiry ON wx_codes(expires_at);
    `,
  },
  {
    version: 7,
    name: "rate windows",
    // Fixed-window rate-limit counts shared by the processes serving one database. UNLOGGED:
    // counts need no durability (a crash empties the table, which forgives a minute's hits),
    // and skipping the WAL keeps one hit per request cheap.
    sql: `
      CREATE UNLOGGED TABLE rate_windows (
        rate_key text   PRIMARY KEY,
        count    integer NOT NULL,
        reset_at bigint NOT NULL
      );
      CREATE INDEX rate_windows_by_reset ON rate_windows(reset_at);
    `,
  },
  {
    version: 8,
    name: "login failures",
    // Failed-login backoff shared by every process on the database (see the SQLite store's
    // migration 9): per key hash the failures, the lock and when both are forgotten. Logged,
    // unlike rate_windows: a lock outlives a crash of the database server, not only of jit serve.
    sql: `
      CREATE TABLE login_failures (
        key_hash     text    PRIMARY KEY,
        failures     integer NOT NULL,
        locked_until bigint  NOT NULL,
        forget_at    bigint  NOT NULL
      );
      CREATE INDEX login_failures_by_forget ON login_failures(forget_at);
    `,
  },
];


/** Version 9: the identities table, as SQLite's version 10 (./sqlite.ts says why). */
const IDENTITIES: Migration = {
  version: 9,
  name: "identities",
  sql: `
    CREATE TABLE identities (
      identity_id bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY, -- insertion order, for "oldest first" among equal times
      provider    text   NOT NULL,
      realm       text   NOT NULL,
      subject     text   NOT NULL,
      user_id     bigint NOT NULL CONSTRAINT identities_user_fk REFERENCES users(user_id) ON DELETE CASCADE,
      union_id    text,
      secret_hash text, -- a PHC string (password), never a secret in clear
      created_at  bigint NOT NULL,
      updated_at  bigint NOT NULL,
      CONSTRAINT identities_subject UNIQUE (provider, realm, subject),
      -- user_id first so that this index also serves the foreign-key checks on users
      CONSTRAINT identities_user UNIQUE (user_id, provider, realm)
    );
    CREATE INDEX identities_by_union ON identities(union_id, created_at, identity_id) WHERE union_id IS NOT NULL;
    CREATE INDEX identities_by_subject ON identities(subject);

    INSERT INTO identities (provider, realm, subject, user_id, union_id, secret_hash, created_at, updated_at)
      SELECT 'wechat-mini', app_id, open_id, user_id, union_id, NULL, created_at, created_at
      FROM wechat_mini_bindings ORDER BY created_at, binding_id;
    INSERT INTO identities (provider, realm, subject, user_id, union_id, secret_hash, created_at, updated_at)
      SELECT 'password', realm, username, user_id, NULL, password_hash, created_at, updated_at
      FROM password_credentials ORDER BY created_at, ctid;

    CREATE TABLE unbound_identities (
      provider   text   NOT NULL,
      realm      text   NOT NULL,
      subject    text   NOT NULL,
      unbound_at bigint NOT NULL,
      PRIMARY KEY (provider, realm, subject)
    );
    INSERT INTO unbound_identities (provider, realm, subject, unbound_at)
      SELECT 'wechat-mini', app_id, open_id, unbound_at FROM wechat_mini_unbound;

    DROP TABLE wechat_mini_bindings;
    DROP TABLE password_credentials;
    DROP TABLE wechat_mini_unbound;
  `,
  // Code from before the ledger reads only jit_schema_migrations: a row past its last version
  // makes it refuse this database ("newer than this runtime") instead of reading tables that
  // are gone.
  up: async (tx) => {
    if (await hasLegacyLedger(tx)) {
      await tx.run("INSERT INTO jit_schema_migrations (version, name) VALUES (9, 'moved to jit_migrations (owner auths)') ON CONFLICT DO NOTHING");
    }
  },
};

export const PG_MIGRATIONS: readonly Migration[] = [...BEFORE_LEDGER, IDENTITIES];

export const PG_LATEST_VERSION = PG_MIGRATIONS.reduce((max, m) => Math.max(max, m.version), 0);

async function hasLegacyLedger(tx: Transaction): Promise<boolean> {
  const row = await tx.get<{ found: string | null }>("SELECT to_regclass('jit_schema_migrations')::text AS found");
  return row?.found != null;
}

/** A database from before the ledger: the last version its jit_schema_migrations holds (0 when it has none). */
export async function adoptPostgres(tx: Transaction): Promise<number> {
  if (!(await hasLegacyLedger(tx))) return 0;
  const row = await tx.get<{ version: number | null }>("SELECT max(version) AS version FROM jit_schema_migrations WHERE version <= 8");
  return row?.version ?? 0;
}
