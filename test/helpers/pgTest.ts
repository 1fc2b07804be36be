import { randomBytes } from "node:crypto";
import pg from "pg";
import { describe, inject } from "vitest";

/**
 * PostgreSQL for tests: the server found by pgGlobalSetup.ts (null: skip), one database per
 * test file (a random name, dropped afterwards) and one schema per store inside it, so
 * files running in parallel and the helpers of other projects never see each other's rows.
 */
export const PG_ADMIN_URL: string | null = inject("pgAdminUrl");

/** describe, or describe.skip when there is no PostgreSQL (pgGlobalSetup printed why). */
export const describePg: typeof describe = (PG_ADMIN_URL ? describe : describe.skip) as typeof describe;

export const randomName = (prefix: string) => `${prefix}_${randomBytes(6).toString("hex")}`;

/** The admin URL with another database (and optionally a password and query). */
export function urlFor(database: string, extra: { password?: string; query?: string; host?: string; port?: number } = {}): string {
  const url = new URL(PG_ADMIN_URL!);
  url.pathname = `/${database}`;
  if (extra.password !== undefined) url.password = extra.password;
  if (extra.host !== undefined) url.hostname = extra.host;
  if (extra.port !== undefined) url.port = String(extra.port);
  url.search = extra.query ?? "";
  return url.toString();
}

async function admin<T>(database: string | null, work: (c: pg.Client) => Promise<T>): Promise<T> {
  const client = new pg.Client({ connectionString: database ? urlFor(database) : PG_ADMIN_URL!, connectionTimeoutMillis: 5000 });
  client.on("error", () => undefined);
  await client.connect();
  try {
    return await work(client);
  } finally {
    await client.end().catch(() => undefined);
  }
}

export interface TestDatabase {
  name: string;
  /** postgres:// URL of the database; `schema` puts the store's tables in that schema. */
  url(options?: { schema?: string; query?: string; password?: string; host?: string; port?: number }): string;
  /** Runs SQL in the database (in `schema` when given). */
  query<R extends pg.QueryResultRow = Record<string, unknown>>(sql: string, params?: unknown[], schema?: string): Promise<R[]>;
  /** Runs `work` on one connection to the database (in `schema` when given). */
  session<T>(schema: string | null, work: (c: pg.Client) => Promise<T>): Promise<T>;
  drop(): Promise<void>;
}

export async function createTestDatabase(): Promise<TestDatabase> {
  const name = randomName("jit_test");
  await admin(null, (c) => c.query(`CREATE DATABASE ${name}`));
  return {
    name,
    url: (o = {}) => {
      const query = [o.schema ? `schema=${o.schema}` : "", o.query ?? ""].filter(Boolean).join("&");
      return urlFor(name, { ...(o.password !== undefined ? { password: o.password } : {}), ...(o.host ? { host: o.host } : {}), ...(o.port ? { port: o.port } : {}), ...(query ? { query: `?${query}` } : {}) });
    },
    query: (sql, params, schema) =>
      admin(name, async (c) => {
        if (schema) await c.query(`SET search_path = ${schema}`);
        return (await c.query(sql, params)).rows;
      }),
    session: (schema, work) =>
      admin(name, async (c) => {
        if (schema) await c.query(`SET search_path = ${schema}`);
        return work(c);
      }),
    drop: () => admin(null, async (c) => void (await c.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`))),
  };
}
