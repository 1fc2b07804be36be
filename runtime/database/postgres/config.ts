import type { PoolConfig } from "pg";
import { StoreError } from "../../errors/index.ts";

/**
 * A `postgres://` URL turned into pg's pool settings and a printable name for the database.
 *
 * The URL carries the password: it goes into the pool config and nowhere else. Every message
 * (errors, logs, `label`) names `host:port/database` only, and a URL that cannot be parsed is
 * never echoed back, since the password may be what makes it unparsable.
 *
 * pg sets no timeouts of its own, so a database that stops answering would hold a request
 * (and a pooled connection) forever. Each one has a default here and a URL parameter:
 *
 * | parameter                             | default | what it bounds                                    |
 * |---------------------------------------|---------|---------------------------------------------------|
 * | `connect_timeout` (seconds, as libpq) | 5       | opening a connection (TCP, TLS, authentication),  |
 * |                                       |         | and waiting for a free pooled one under load      |
 * | `statement_timeout` (ms)              | 5000    | one statement, on the server                      |
 * | `idle_in_transaction_session_timeout` (ms) | 10000 | a transaction left open by a stalled client  |
 * | `pool_max`                            | 10      | connections per process                           |
 *
 * `prepared_statements` (on, off; default on): statements are named prepared statements,
 * parsed and planned once per connection; off for a pooler that cannot keep them.
 *
 * and, on the client side, a read timeout one second above the statement timeout, for a
 * peer that neither answers nor closes the connection. `sslmode` (disable, require,
 * verify-full), `application_name` and `schema` (the tables live in that schema, created
 * when missing; default the user's search_path, normally `public`) are accepted too.
 * Anything else is refused by name, so a typo does not silently fall back to a default.
 */
export interface PostgresConfig {
  /** `host:port/database`, plus `?schema=…` when one is set: safe to print. */
  label: string;
  host: string;
  port: number;
  database: string;
  schema: string | null;
  pool: PoolConfig;
  statementTimeoutMs: number;
  /** Named prepared statements (URL parameter prepared_statements, default on). */
  preparedStatements: boolean;
}

export const POSTGRES_DEFAULTS = {
  connectTimeoutS: 5,
  statementTimeoutMs: 5000,
  idleInTransactionTimeoutMs: 10_000,
  poolMax: 10,
  /** A pooled connection unused this long is closed. */
  idleTimeoutMs: 30_000,
} as const;

const KNOWN = ["connect_timeout", "statement_timeout", "idle_in_transaction_session_timeout", "pool_max", "sslmode", "application_name", "schema", "prepared_statements"] as const;

/** True for the schemes this store serves. */
export function isPostgresUrl(text: string): boolean {
  return /^postgres(ql)?:\/\//i.test(text.trim());
}

export function parsePostgresUrl(text: string): PostgresConfig {
  let url: URL;
  try {
    url = new URL(text.trim());
  } catch {
    // Never the text itself: it may hold the password.
    throw openFailed("a postgres:// URL", "the database URL cannot be parsed; expected postgres://user:password@host:port/database");
  }
  if (!/^postgres(ql)?:$/i.test(url.protocol)) {
    throw openFailed("a postgres:// URL", `unsupported scheme ${url.protocol.slice(0, 20)} (use postgres:// or postgresql://)`);
  }
  const query = url.searchParams;
  const host = decode(url.hostname).replace(/^\[(.*)\]$/, "$1") || "localhost";
  const port = url.port === "" ? 5432 : Number(url.port);
  const database = decode(url.pathname.replace(/^\//, ""));
  const where = `${host.includes(":") ? `[${host}]` : host}:${port}/${database || "?"}`;
  if (database === "" || database.includes("/")) {
    throw openFailed(where, "the URL names no database: postgres://user:password@host:port/database");
  }

  for (const key of query.keys()) {
    if (!(KNOWN as readonly string[]).includes(key)) {
      throw openFailed(where, `unknown URL parameter "${key.slice(0, 40)}" (known: ${KNOWN.join(", ")})`);
    }
  }
  const int = (key: (typeof KNOWN)[number], fallback: number, min: number) => {
    const raw = query.get(key);
    if (raw === null) return fallback;
    const value = /^\d{1,10}$/.test(raw) ? Number(raw) : NaN;
    if (!Number.isSafeInteger(value) || value < min || value > 2 ** 31 - 1) {
      throw openFailed(where, `URL parameter ${key} must be an integer from ${min} to 2147483647`);
    }
    return value;
  };
  const connectTimeoutS = int("connect_timeout", POSTGRES_DEFAULTS.connectTimeoutS, 1);
  const statementTimeoutMs = int("statement_timeout", POSTGRES_DEFAULTS.statementTimeoutMs, 1);
  const idleInTransactionTimeoutMs = int("idle_in_transaction_session_timeout", POSTGRES_DEFAULTS.idleInTransactionTimeoutMs, 1);
  const poolMax = int("pool_max", POSTGRES_DEFAULTS.poolMax, 1);

  const schema = query.get("schema");
  if (schema !== null && !/^[a-z_][a-z0-9_]{0,62}$/.test(schema)) {
    throw openFailed(where, "URL parameter schema must be a lower-case SQL name (a-z, 0-9, _; not starting with a digit)");
  }
  const sslmode = query.get("sslmode") ?? "disable";
  const ssl = { disable: false, require: { rejectUnauthorized: false }, "verify-full": true }[sslmode];
  if (ssl === undefined) throw openFailed(where, "URL parameter sslmode must be disable, require or verify-full");

  const user = decode(url.username);
  const password = decode(url.password);
  const pool: PoolConfig = {
    host,
    port,
    database,
    ...(user ? { user } : {}),
    ...(url.password !== "" ? { password } : {}),
    ssl,
    application_name: query.get("application_name") ?? "jit-runtime",
    max: poolMax,
    idleTimeoutMillis: POSTGRES_DEFAULTS.idleTimeoutMs,
    connectionTimeoutMillis: connectTimeoutS * 1000,
    statement_timeout: statementTimeoutMs,
    idle_in_transaction_session_timeout: idleInTransactionTimeoutMs,
    query_timeout: statementTimeoutMs + 1000,
    keepAlive: true,
    // Idle pooled connections do not keep the process alive: a script that forgets close()
    // still exits (as with SQLite's writer thread), and a busy one is unaffected.
    allowExitOnIdle: true,
    // The tables are found in the schema without qualifying every statement.
    ...(schema !== null ? { options: `-c search_path=${schema}` } : {}),
  };
  const prepared = query.get("prepared_statements") ?? "on";
  if (prepared !== "on" && prepared !== "off") throw openFailed(where, "URL parameter prepared_statements must be on or off");
  return { label: schema !== null ? `${where}?schema=${schema}` : where, host, port, database, schema, pool, statementTimeoutMs, preparedStatements: prepared === "on" };
}

function decode(part: string): string {
  try {
    return decodeURIComponent(part);
  } catch {
    return part;
  }
}

function openFailed(where: string, reason: string): InstanceType<typeof StoreError> {
  return new StoreError("STORE_OPEN_FAILED", { file: where, reason });
}
