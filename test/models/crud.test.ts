import { afterAll, beforeAll, describe, expect, it } from "vitest";
import type { App } from "../../runtime/index.ts";
import type { Model } from "../../elements/models/Meta/index.ts";
import { BACKENDS, KINDS_MODEL, modelEnv, ORDER_MODEL, rejected as thrown } from "./fixture.ts";

describe.each(BACKENDS)("models on %s", (backend) => {
  const env = modelEnv(backend, { OrderModel: ORDER_MODEL, KindsModel: KINDS_MODEL });
  let app: App;
  let orders: Model;
  let kinds: Model;
  beforeAll(async () => {
    app = await env.load();
    orders = app.getElement<Model>("models.OrderModel");
    kinds = app.getElement<Model>("models.KindsModel");
  });
  afterAll(async () => {
    await app?.close();
  });

  it("creates a row with its id and defaults filled, and gets it back", async () => {
    const row = await orders.create({ userId: 3, item: "tea", createdAt: 1_700_000_000_000 });
    expect(row).toEqual({ id: expect.any(Number), userId: 3, item: "tea", qty: 1, note: null, createdAt: 1_700_000_000_000 });
    expect(await orders.get({ id: row.id })).toEqual(row);
    expect(await orders.get({ item: "no such" })).toBeNull();
  });

  it("queries with operators, orderList and pages, and counts", async () => {
    for (let i = 1; i <= 12; i++) await orders.create({ userId: i % 2 === 0 ? 10 : 11, item: `item${i}`, qty: i, createdAt: 1000 + i });
    const page = await orders.query({ filter: { userId: 10, qty: { ">=": 4, "<": 11 } }, orderList: [["createdAt", -1]], page: 1, size: 2 });
    expect(page.totalCount).toBe(4); // qty 4, 6, 8, 10
    expect(page.rowDatas.map((r) => r.qty)).toEqual([10, 8]);
    const second = await orders.query({ filter: { userId: 10, qty: { ">=": 4, "<": 11 } }, orderList: [["createdAt", -1]], page: 2, size: 2 });
    expect(second.rowDatas.map((r) => r.qty)).toEqual([6, 4]);
    expect(await orders.count({ item: { like: "item1%" } })).toBe(4); // item1, item10, item11, item12
    expect(await orders.count({ qty: { in: [1, 2, 3] }, userId: { "!=": 10 } })).toBe(3); // qty 1 and 3 of user 11, and the first test's row
    expect(await orders.count({ note: { isnull: true }, userId: { in: [10, 11] } })).toBe(12);
    expect(await orders.count({ qty: { ">": 5, "<=": 7 } })).toBe(2);
  });

  it("updates by primary key and deletes by primary key", async () => {
    const row = await orders.create({ userId: 5, item: "coffee" });
    const updated = await orders.updateByPK(row.id, { qty: 4, note: "no sugar" });
    expect(updated).toEqual({ ...row, qty: 4, note: "no sugar" });
    expect(await orders.get({ id: row.id })).toEqual(updated);
    expect(await orders.deleteByPK(row.id)).toEqual({ deleted: 1 });
    expect(await orders.deleteByPK(row.id)).toEqual({ deleted: 0 });
    expect((await thrown(orders.updateByPK(row.id, { qty: 1 }))).code).toBe("MODEL_ROW_NOT_FOUND");
  });

  it("keeps Money exact, Datetime in epoch ms, Date as text and JitDict as an object", async () => {
    const row = await kinds.create({ code: "k1", price: "12345678901.05", at: 1_733_000_000_123, day: "2024-02-29", extra: { a: [1, "x"], b: null }, body: "long" });
    expect(row).toEqual({ code: "k1", price: "12345678901.05", at: 1_733_000_000_123, day: "2024-02-29", extra: { a: [1, "x"], b: null }, body: "long", email: null });
    expect((await kinds.create({ code: "k2", price: "-0.5" })).price).toBe("-0.50");
    expect((await kinds.create({ code: "k3", price: 7 })).price).toBe("7.00");
    expect(await kinds.count({ price: { ">": "7" } })).toBe(1);
    expect(await kinds.count({ day: { "<": "2025-01-01" } })).toBe(1);
  });

  it("refuses bad values before any SQL runs, naming model, field and problem; nothing is written", async () => {
    const before = await orders.count();
    const cases: Array<[Record<string, unknown>, string, RegExp]> = [
      [{ userId: "3", item: "tea" }, "MODEL_VALUE_INVALID", /models\.OrderModel\.userId: must be a whole number/],
      [{ userId: 1.5, item: "tea" }, "MODEL_VALUE_INVALID", /userId: must be a whole number.*fractional/],
      [{ item: "tea" }, "MODEL_VALUE_INVALID", /models\.OrderModel\.userId: is required/],
      [{ userId: 3, item: "x".repeat(65) }, "MODEL_VALUE_INVALID", /item: is longer than its maxLength 64/],
      [{ userId: 3, item: "tea", colour: "red" }, "MODEL_FIELD_UNKNOWN", /models\.OrderModel has no field colour/],
      [{ userId: 3, item: "tea", id: 99 }, "MODEL_VALUE_INVALID", /id: is numbered by the database/],
      [{ userId: 3, item: null }, "MODEL_VALUE_INVALID", /item: is required and cannot be null/],
      [{ userId: 3, item: "tea", createdAt: "yesterday" }, "MODEL_VALUE_INVALID", /createdAt: must be epoch milliseconds/],
    ];
    for (const [row, code, message] of cases) {
      const err = await thrown(orders.create(row));
      expect({ code: err.code, status: err.status }, JSON.stringify(row)).toEqual({ code, status: 400 });
      expect(err.message).toMatch(message);
    }
    for (const [row, message] of [
      [{ code: "m1", price: 1.1 }, /price: must be a decimal string/],
      [{ code: "m1", price: "1.234" }, /price: must be a decimal string/],
      [{ code: "m1", day: "2023-02-29" }, /day: must be a date as YYYY-MM-DD/],
      [{ code: "m1", extra: [1] }, /extra: must be a JSON object, not an array/],
    ] as const) {
      expect((await thrown(kinds.create(row))).message).toMatch(message);
    }
    expect(await orders.count()).toBe(before);
  });

  it("refuses bad filters, orderings and pages with coded errors", async () => {
    const cases: Array<[unknown, string, RegExp]> = [
      [{ filter: { nope: 1 } }, "MODEL_FIELD_UNKNOWN", /has no field nope \(in the filter\)/],
      [{ filter: { qty: { "~": 1 } } }, "MODEL_FILTER_INVALID", /filter on qty: unknown operator/],
      [{ filter: { qty: { ">": "1; DROP TABLE x" } } }, "MODEL_FILTER_INVALID", /filter on qty: the value of ">" must be a whole number/],
      [{ filter: { qty: { like: "1%" } } }, "MODEL_FILTER_INVALID", /like applies to Stext and Ltext/],
      [{ filter: { qty: { in: [] } } }, "MODEL_FILTER_INVALID", /in takes a list/],
      [{ filter: { note: { isnull: "yes" } } }, "MODEL_FILTER_INVALID", /isnull takes true or false/],
      [{ filter: "id = 1 OR 1=1" }, "MODEL_QUERY_INVALID", /filter: must be an object/],
      [{ orderList: [["createdAt", "desc"]] }, "MODEL_QUERY_INVALID", /orderList: each entry is/],
      [{ orderList: [["nope", 1]] }, "MODEL_FIELD_UNKNOWN", /nope \(in orderList\)/],
      [{ page: 0 }, "MODEL_QUERY_INVALID", /page: must be a whole number from 1/],
      [{ size: 1001 }, "MODEL_QUERY_INVALID", /size: must be a whole number from 1 to 1000/],
      [{ where: "1=1" }, "MODEL_QUERY_INVALID", /takes only filter, orderList, page and size/],
    ];
    for (const [args, code, message] of cases) {
      const err = await thrown(orders.query(args as never));
      expect(err.code, JSON.stringify(args)).toBe(code);
      expect(err.status).toBe(400);
      expect(err.message).toMatch(message);
    }
  });

  it("stores text that looks like SQL as text", async () => {
    const evil = `tea'); DROP TABLE "models.OrderModel"; --`;
    const row = await orders.create({ userId: 77, item: evil });
    expect((await orders.get({ item: evil }))?.id).toBe(row.id);
    expect(await orders.count({ userId: 77 })).toBe(1);
  });

  it("answers a second row with a unique value as MODEL_UNIQUE_VIOLATION naming the field", async () => {
    await kinds.create({ code: "u1", email: "a@example.com" });
    const err = await thrown(kinds.create({ code: "u2", email: "a@example.com" }));
    expect({ code: err.code, status: err.status }).toEqual({ code: "MODEL_UNIQUE_VIOLATION", status: 409 });
    expect(err.message).toBe("models.KindsModel: another row already has this email");
    expect((await thrown(kinds.create({ code: "u1" }))).message).toBe("models.KindsModel: another row already has this code");
  });

  it("commits the writes of a transaction together, or none of them", async () => {
    await orders.transaction(async () => {
      await orders.create({ userId: 200, item: "a" });
      await orders.create({ userId: 200, item: "b" });
    });
    expect(await orders.count({ userId: 200 })).toBe(2);
    const err = await thrown(
      orders.transaction(async () => {
        await orders.create({ userId: 201, item: "a" });
        await orders.create({ userId: 201, item: "x".repeat(100) });
      }),
    );
    expect(err.code).toBe("MODEL_VALUE_INVALID");
    expect(await orders.count({ userId: 201 })).toBe(0);
  });

  it("runs concurrent calls outside a transaction after it, not inside it", async () => {
    let inside!: () => void;
    const started = new Promise<void>((resolve) => (inside = resolve));
    const tx = (
      orders.transaction(async () => {
        await orders.create({ userId: 300, item: "in tx" });
        inside();
        await new Promise((r) => setTimeout(r, 50));
        throw new Error("roll back");
      })
    ).catch((err: Error) => err.message);
    await started;
    const outside = await orders.create({ userId: 300, item: "outside" });
    expect(await tx).toBe("roll back");
    expect((await orders.query({ filter: { userId: 300 } })).rowDatas.map((r) => r.item)).toEqual(["outside"]);
    expect(outside.item).toBe("outside");
  });
});
