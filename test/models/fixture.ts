import path from "node:path";
import { afterAll, beforeAll } from "vitest";
import { isJitError, loadApp, type App, type JitError } from "../../runtime/index.ts";
import { appJson, makeFixture, writeTree, type Tree } from "../helpers/appFixture.ts";
import { createTestDatabase, PG_ADMIN_URL, randomName, type TestDatabase } from "../helpers/pgTest.ts";

/** The OrderModel, as an app developer declares it. */
export const ORDER_MODEL = {
  type: "models.NormalType",
  title: "Order",
  fields: [
    { name: "id", title: "ID", dataType: "AutoInt", primaryKey: true },
    { name: "userId", title: "Buyer", dataType: "Numeric", required: true, dbIndex: true },
    { name: "item", title: "Item", dataType: "Stext", maxLength: 64, required: true },
    { name: "qty", title: "Quantity", dataType: "Numeric", default: 1 },
    { name: "note", title: "Note", dataType: "Ltext" },
    { name: "createdAt", title: "Created", dataType: "Datetime" },
  ],
  unionUniqueList: [],
};

/** One field of every data type, and a unique one. */
export const KINDS_MODEL = {
  type: "models.NormalType",
  title: "Every kind",
  fields: [
    { name: "code", dataType: "Stext", primaryKey: true, maxLength: 16 },
    { name: "price", dataType: "Money" },
    { name: "at", dataType: "Datetime" },
    { name: "day", dataType: "Date" },
    { name: "extra", dataType: "JitDict" },
    { name: "body", dataType: "Ltext" },
    { name: "email", dataType: "Stext", unique: true },
  ],
};

export type Backend = "sqlite" | "postgres";
export const BACKENDS: Backend[] = PG_ADMIN_URL ? ["sqlite", "postgres"] : ["sqlite"];

export interface ModelEnv {
  root: string;
  /** The database location the app uses (a SQLite file or a postgres:// URL). */
  db: string;
  /** Loads the app as it is on disk now (after `write`, say). */
  load(): Promise<App>;
  write(tree: Tree): Promise<void>;
}

/** A temp app "shop" with `tree`'s models on a fresh SQLite file or PostgreSQL schema, for one describe block. */
export function modelEnv(backend: Backend, models: Record<string, unknown>): ModelEnv {
  const env = {} as ModelEnv;
  let pgDb: TestDatabase | undefined;
  let cleanup: (() => Promise<void>) | undefined;
  const apps: App[] = [];
  beforeAll(async () => {
    const tree: Tree = { ...appJson("shop") };
    for (const [name, decl] of Object.entries(models)) tree[`apps/shop/elements/models/${name}/e.json`] = decl;
    const fx = await makeFixture(tree, "jit-models-");
    cleanup = fx.cleanup;
    env.root = fx.root;
    if (backend === "postgres") {
      pgDb = await createTestDatabase();
      env.db = pgDb.url({ schema: randomName("m") });
      const schema = new URL(env.db).searchParams.get("schema")!;
      await pgDb.query(`CREATE SCHEMA ${schema}`);
    } else {
      env.db = path.join(fx.root, ".jit", "shop.sqlite");
    }
    env.load = async () => {
      const app = await loadApp({ root: fx.root, appId: "shop", dbFile: env.db, env: { JIT_DB: undefined, DATABASE_URL: undefined } });
      apps.push(app);
      return app;
    };
    env.write = (t) => writeTree(fx.root, t);
  });
  afterAll(async () => {
    for (const app of apps) await app.close();
    await pgDb?.drop();
    await cleanup?.();
  });
  return env;
}

/** Awaits a promise that must reject with a JitError, and returns it. */
export async function rejected(promise: Promise<unknown>): Promise<JitError> {
  try {
    await promise;
  } catch (err) {
    if (!isJitError(err)) throw err;
    return err;
  }
  throw new Error("expected a rejection");
}
