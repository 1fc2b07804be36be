import { describe, expect, it } from "vitest";
import type { App } from "../../runtime/index.ts";
import type { Model } from "../../elements/models/Meta/index.ts";
import { dropModelColumn, migrateAppModels, planModels, previewModelDrop } from "../../elements/models/Meta/admin.ts";
import { BACKENDS, modelEnv, ORDER_MODEL, rejected } from "./fixture.ts";

type Field = (typeof ORDER_MODEL.fields)[number] | Record<string, unknown>;
const declare = (fields: Field[], extra: Record<string, unknown> = {}) => ({
  "apps/shop/elements/models/OrderModel/e.json": { ...ORDER_MODEL, fields, ...extra },
});
const base = ORDER_MODEL.fields as Field[];
const without = (name: string) => base.filter((f) => f.name !== name);

describe.each(BACKENDS)("model migrations on %s", (backend) => {
  const env = modelEnv(backend, { OrderModel: ORDER_MODEL });
  const open = async (): Promise<{ app: App; orders: Model }> => {
    const app = await env.load();
    return { app, orders: app.getElement<Model>("models.OrderModel") };
  };

  it("creates the table, then adds a field: old rows keep their data, the new field its default", async () => {
    const v1 = await open();
    const plan = (await planModels(v1.app))[0]!;
    expect(plan.steps.map((s) => [s.kind, s.safe])).toEqual([["createTable", true], ["addIndex", true]]);
    await v1.orders.create({ userId: 1, item: "tea", note: "hot" });
    await v1.orders.create({ userId: 2, item: "cake" });
    await v1.app.close();

    await env.write(declare([...base, { name: "status", dataType: "Stext", maxLength: 16, default: "new", required: true }]));
    const v2 = await open();
    const steps = (await planModels(v2.app))[0]!.steps;
    expect(steps.map((s) => [s.kind, s.safe, s.id])).toEqual([["addColumn", true, "models.OrderModel.status"]]);
    const rows = (await v2.orders.query({ orderList: [["id", 1]] })).rowDatas;
    expect(rows.map((r) => [r.item, r.note, r.status])).toEqual([["tea", "hot", "new"], ["cake", null, "new"]]);
    expect((await planModels(v2.app))[0]!.steps).toEqual([]);
    await v2.app.close();
  });

  it("renames a field with renamedFrom, keeping its data", async () => {
    await env.write(declare([...without("note"), { name: "remark", dataType: "Ltext", renamedFrom: "note" }, { name: "status", dataType: "Stext", maxLength: 16, default: "new", required: true }]));
    const { app, orders } = await open();
    expect((await planModels(app))[0]!.steps.map((s) => [s.kind, s.safe])).toEqual([["renameColumn", true]]);
    expect((await orders.get({ item: "tea" }))?.remark).toBe("hot");
    await app.close();
  });

  it("keeps the column and data of a removed field until --drop, which says what it deletes first", async () => {
    await env.write(declare([...without("note"), { name: "status", dataType: "Stext", maxLength: 16, default: "new", required: true }]));
    const { app, orders } = await open();
    const plan = (await planModels(app))[0]!;
    expect(plan.steps.map((s) => [s.kind, s.safe, s.id])).toEqual([["keepColumn", true, "models.OrderModel.remark"]]);
    expect(plan.steps[0]!.summary).toMatch(/jit migrate --drop models\.OrderModel\.remark/);
    expect(await orders.get({ item: "tea" })).not.toHaveProperty("remark");
    expect(await previewModelDrop(app, "models.OrderModel.remark")).toEqual({ model: "models.OrderModel", column: "remark", values: 1 });
    // The field comes back before anyone dropped it: its data too.
    await app.close();
    await env.write(declare([...without("note"), { name: "remark", dataType: "Ltext" }, { name: "status", dataType: "Stext", maxLength: 16, default: "new", required: true }]));
    const back = await open();
    expect((await back.orders.get({ item: "tea" }))?.remark).toBe("hot");
    await back.app.close();
    await env.write(declare([...without("note"), { name: "status", dataType: "Stext", maxLength: 16, default: "new", required: true }]));
    const again = await open();
    await migrateAppModels(again.app);
    expect((await rejected(previewModelDrop(again.app, "models.OrderModel.status"))).message).toMatch(/status is a declared field/);
    expect(await dropModelColumn(again.app, "models.OrderModel.remark")).toEqual({ model: "models.OrderModel", column: "remark", values: 1 });
    expect((await rejected(previewModelDrop(again.app, "models.OrderModel.remark"))).message).toMatch(/keeps no column remark/);
    expect(await again.orders.count()).toBe(2);
    await again.app.close();
  });

  it("refuses unsafe steps, all named at once, and runs nothing until each is confirmed", async () => {
    await env.write(
      declare([
        ...base.filter((f) => !["note", "qty", "item"].includes(f.name as string)),
        { name: "item", dataType: "Stext", maxLength: 3, required: true, unique: true }, // "cake" is longer; duplicates below
        { name: "qty", dataType: "Stext" }, // was Numeric
        { name: "status", dataType: "Stext", maxLength: 16, default: "new", required: true },
        { name: "coupon", dataType: "Stext", required: true }, // no default, rows exist
        { name: "colour", dataType: "Stext" }, // safe, but must not run either
      ]),
    );
    const { app, orders } = await open();
    const plan = (await planModels(app))[0]!;
    expect(plan.blocked.map((s) => [s.id, s.kind, s.confirmable])).toEqual([
      ["models.OrderModel.item", "narrowMaxLength", true],
      ["models.OrderModel.qty", "changeType", true],
      ["models.OrderModel.coupon", "addColumn", true],
    ]);
    const err = await rejected(orders.count());
    expect(err.code).toBe("MIGRATION_UNSAFE");
    expect(err.message).toMatch(/3 unsafe migration step\(s\) pending, nothing was changed/);
    expect(err.message).toMatch(/jit migrate --confirm models\.OrderModel\.qty/);
    const partial = await rejected(migrateAppModels(app, ["models.OrderModel.qty"]));
    expect(partial.message).toMatch(/2 unsafe/);
    // Nothing ran: the safe new column is not there, qty is still a number column.
    expect((await planModels(app))[0]!.steps.some((s) => s.id === "models.OrderModel.colour" && s.kind === "addColumn")).toBe(true);
    await app.close();

    // Duplicates under a new unique: no confirmation makes that index, the data must change first.
    await env.write(declare([...without("note"), { name: "status", dataType: "Stext", maxLength: 16, default: "new", required: true, unique: true }]));
    const dup = await open();
    const blocked = (await planModels(dup.app))[0]!.blocked;
    expect(blocked.map((s) => [s.id, s.confirmable])).toEqual([["models.OrderModel.status", false]]);
    expect(blocked[0]!.reason).toMatch(/1 value\(s\) of status are on more than one row/);
    expect((await rejected(migrateAppModels(dup.app, ["models.OrderModel.status"]))).code).toBe("MIGRATION_UNSAFE");
    await dup.app.close();
  });

  it("applies a confirmed change of data type, keeping the old column and its data aside", async () => {
    await env.write(declare([...without("note").filter((f) => f.name !== "qty"), { name: "qty", dataType: "Stext", default: "one" }, { name: "status", dataType: "Stext", maxLength: 16, default: "new", required: true }]));
    const { app, orders } = await open();
    const applied = await migrateAppModels(app, ["models.OrderModel.qty"]);
    expect(applied.map((s) => s.kind)).toEqual(["changeType"]);
    expect((await orders.get({ item: "tea" }))?.qty).toBe("one");
    expect(await previewModelDrop(app, "models.OrderModel.qty__wasNumeric")).toEqual({ model: "models.OrderModel", column: "qty__wasNumeric", values: 2 });
    await app.close();
  });

  it("migrates once when two apps start at once on one database", async () => {
    await env.write({ "apps/shop/elements/models/LogModel/e.json": { type: "models.NormalType", title: "Log", fields: [{ name: "id", dataType: "AutoInt", primaryKey: true }, { name: "text", dataType: "Ltext" }] } });
    const [a, b] = await Promise.all([open(), open()]);
    const [ra, rb] = await Promise.all([migrateAppModels(a.app), migrateAppModels(b.app)]);
    expect([ra.length, rb.length].sort()).toEqual([0, 1]);
    const log = a.app.getElement<Model>("models.LogModel");
    await log.create({ text: "x" });
    expect(await b.app.getElement<Model>("models.LogModel").count()).toBe(1);
    await a.app.close();
    await b.app.close();
  });
});
