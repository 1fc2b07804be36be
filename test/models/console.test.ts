import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { resolveAdminToken } from "../../runtime/http/console/adminToken.ts";
import { readReply, startStack, type Stack } from "../helpers/http.ts";
import { ORDER_MODEL } from "./fixture.ts";
import { shopFiles } from "./shopApp.ts";

// The models family's console tab (Data) and the fields on the Elements page, through the
// console's JSON API.

const TOKEN = "models-console-admin-token-0123456789";

describe("console: models", () => {
  let stack: Stack;
  const get = async (url: string, token = TOKEN) => readReply(await fetch(`${stack.base}${url}`, { headers: { authorization: `Bearer ${token}` } }));
  beforeAll(async () => {
    stack = await startStack({ extraFiles: shopFiles(), server: { console: { adminToken: resolveAdminToken({ JIT_ADMIN_TOKEN: TOKEN }) } } });
    const orders = stack.app.getElement<{ create(row: Record<string, unknown>): Promise<unknown> }>("models.OrderModel");
    for (let i = 1; i <= 25; i++) await orders.create({ userId: i % 3, item: `item-${i}` });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("lists the models with their fields", async () => {
    const reply = await get("/console/api/models");
    expect(reply.status).toBe(200);
    expect(reply.body.models).toEqual([{ fullName: "models.OrderModel", title: "Order", fields: ORDER_MODEL.fields }]);
    const elements = (await get("/console/api/elements")).body.elements as Array<{ fullName: string; config: { fields?: unknown } }>;
    expect(elements.find((e) => e.fullName === "models.OrderModel")?.config.fields).toEqual(ORDER_MODEL.fields);
  });

  it("reads a model's rows page by page", async () => {
    const first = await get("/console/api/models/rows?model=models.OrderModel&page=1&size=10");
    expect(first.status).toBe(200);
    expect(first.body).toMatchObject({ fullName: "models.OrderModel", page: 1, size: 10, totalCount: 25 });
    expect(first.body.rowDatas.map((r: { item: string }) => r.item)).toEqual(Array.from({ length: 10 }, (_, i) => `item-${i + 1}`));
    const last = await get("/console/api/models/rows?model=models.OrderModel&page=3&size=10");
    expect(last.body.rowDatas.map((r: { item: string }) => r.item)).toEqual(["item-21", "item-22", "item-23", "item-24", "item-25"]);
  });

  it("names the models in the overview its tab reads", async () => {
    expect((await get("/console/api/overview")).body.models).toEqual(["models.OrderModel"]);
  });

  it("reads nothing else, and nothing without the admin token", async () => {
    expect((await get("/console/api/models/rows?model=services.OrderSvc")).status).toBe(404);
    expect((await get("/console/api/models/rows?model=models.OrderModel&size=5000")).status).toBe(400);
    expect((await get("/console/api/models/rows?model=models.OrderModel", "wrong-token-wrong-token-000")).status).toBe(401);
    const write = await fetch(`${stack.base}/console/api/models/rows?model=models.OrderModel`, { method: "DELETE", headers: { authorization: `Bearer ${TOKEN}` } });
    expect(write.status).toBe(404);
  });
});
