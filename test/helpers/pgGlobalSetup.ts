/**
 * vitest globalSetup: finds the PostgreSQL server the PostgreSQL suites run against, once
 * per run, and hands its URL to them (inject("pgAdminUrl")).
 *
 * JIT_TEST_PG (a postgres:// URL to a database the tests may create databases from), else
 * the machine's default postgres://postgres@127.0.0.1:5432/postgres. When it does not
 * answer: under CI the run fails here, so those suites can never skip silently; elsewhere
 * they skip, and this prints the one line that says how to run them.
 */
import pg from "pg";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    pgAdminUrl: string | null;
  }
}

export const DEFAULT_TEST_PG = "postgres://postgres@127.0.0.1:5432/postgres";

export const testPgUrl = () => process.env.JIT_TEST_PG?.trim() || DEFAULT_TEST_PG;

/** The URL without its credentials, for messages. */
export const withoutCredentials = (url: string) => url.replace(/\/\/[^@/]*@/, "//");

export default async function setup(project: TestProject): Promise<void> {
  const url = testPgUrl();
  const reason = await reach(url);
  if (reason === null) {
    project.provide("pgAdminUrl", url);
    return;
  }
  const where = withoutCredentials(url);
  if (process.env.CI === "true") {
    throw new Error(`PostgreSQL at ${where} does not answer (${reason}); CI runs the PostgreSQL suites and cannot skip them`);
  }
  console.log(`PostgreSQL suites skipped: ${where} does not answer (${reason}); to run them, start PostgreSQL there or set JIT_TEST_PG=postgres://user@host:port/database`);
  project.provide("pgAdminUrl", null);
}

/** null when the server answers a query, else why not. */
export async function reach(url: string): Promise<string | null> {
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis: 3000 });
  client.on("error", () => undefined);
  try {
    await client.connect();
    await client.query("SELECT 1");
    return null;
  } catch (err) {
    return err instanceof Error ? err.message || (err as NodeJS.ErrnoException).code || err.name : String(err);
  } finally {
    await client.end().catch(() => undefined);
  }
}
