import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openPostgresStore, type PostgresStore } from "../runtime/storage/postgres/index.ts";
import { runStoreContract } from "./store.contract.ts";
import { createTestDatabase, describePg, randomName, type TestDatabase } from "./helpers/pgTest.ts";

let db: TestDatabase;

describePg("PostgreSQL store", () => {
  beforeAll(async () => {
    db = await createTestDatabase();
  });
  afterAll(async () => {
    await db?.drop();
  });

  /** A store in a schema of its own; cleanup closes it and drops the schema. */
  async function schemaStore(): Promise<{ store: PostgresStore; schema: string; cleanup(): Promise<void> }> {
    const schema = randomName("s");
    const store = await openPostgresStore({ url: db.url({ schema }) });
    return {
      store,
      schema,
      cleanup: async () => {
        await store.close();
        await db.query(`DROP SCHEMA IF EXISTS ${schema} CASCADE`);
      },
    };
  }

  runStoreContract("PostgresStore", schemaStore);
});
