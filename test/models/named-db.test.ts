import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, describe, expect, it } from "vitest";
import { loadApp, type App } from "../../runtime/index.ts";
import type { Model } from "../../elements/models/Meta/index.ts";
import { planModels } from "../../elements/models/Meta/admin.ts";
import { appJson, makeFixture } from "../helpers/appFixture.ts";
import { ORDER_MODEL, rejected } from "./fixture.ts";

// A model's "db" names the databases element its table lives in; without it, the app's default.

describe("a model in a named database", () => {
  const opened: Array<{ app: App; cleanup: () => Promise<void> }> = [];
  afterAll(async () => {
    for (const { app, cleanup } of opened) {
      await app.close();
      await cleanup();
    }
  });

  async function open(extra: Record<string, unknown>) {
    const fx = await makeFixture({
      ...appJson("shop"),
      "apps/shop/elements/models/OrderModel/e.json": ORDER_MODEL,
      "apps/shop/elements/databases/analytics/e.json": { type: "databases.SqliteType", title: "Analytics", file: "data/analytics.sqlite" },
      ...extra,
    });
    const app = await loadApp({ root: fx.root, appId: "shop", env: {} });
    opened.push({ app, cleanup: fx.cleanup });
    return { app, root: fx.root };
  }

  it("keeps its table there, and the other models' in the default database", async () => {
    const { app, root } = await open({ "apps/shop/elements/models/VisitModel/e.json": { type: "models.NormalType", title: "Visit", db: "databases.analytics", fields: [{ name: "id", dataType: "AutoInt", primaryKey: true }, { name: "page", dataType: "Stext", required: true }] } });
    await app.getElement<Model>("models.VisitModel").create({ page: "/home" });
    await app.getElement<Model>("models.OrderModel").create({ userId: 1, item: "tea" });
    const tables = (file: string) => {
      const db = new Database(file, { readonly: true });
      try {
        return (db.prepare("SELECT name FROM sqlite_master WHERE type = 'table' AND name LIKE 'models.%' ORDER BY name").all() as { name: string }[]).map((r) => r.name);
      } finally {
        db.close();
      }
    };
    expect(tables(path.join(root, "data", "analytics.sqlite"))).toEqual(["models.VisitModel"]);
    expect(tables(path.join(root, ".jit", "shop.sqlite"))).toEqual(["models.OrderModel"]);
    expect((await planModels(app)).map((p) => [path.basename(p.database), p.steps.length])).toEqual([["shop.sqlite", 0], ["analytics.sqlite", 0]]);
  });

  it("refuses a db that is not a database element, at first use", async () => {
    const { app } = await open({ "apps/shop/elements/models/BadModel/e.json": { type: "models.NormalType", title: "Bad", db: "databases.nowhere", fields: [{ name: "id", dataType: "AutoInt", primaryKey: true }] } });
    const err = await rejected(app.getElement<Model>("models.OrderModel").count());
    expect(err.code).toBe("ELEMENT_NOT_FOUND");
  });
});
