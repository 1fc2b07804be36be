import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { AUTH, DEMO_APPID, DEMO_SECRET, LOGIN, makeTempRoot, post, removeDir } from "../helpers/http.ts";
import { startServers, type Cluster } from "../helpers/cluster.ts";
import { createTestDatabase, PG_ADMIN_URL, randomName, type TestDatabase } from "../helpers/pgTest.ts";
import { shopFiles } from "./shopApp.ts";
import path from "node:path";

// The path end to end, on real `jit serve --workers 2` processes: two WeChat users
// log in through the fake, place orders through OrderSvc, and see only their own, across a
// restart; bad rows, bad filters and SQL-looking text get coded 4xx and write nothing.

const SVC = "/api/demo/services/OrderSvc";

describe.each(PG_ADMIN_URL ? (["sqlite", "postgres"] as const) : (["sqlite"] as const))("the shop on %s with jit serve --workers 2", (backend) => {
  let fake: FakeWeChatServer;
  let root: string;
  let pgDb: TestDatabase | undefined;
  let db: string;
  let cluster: Cluster | undefined;
  let base: string;
  const tokens: Record<string, string> = {};

  const start = async () => {
    cluster = await startServers(root, fake, db, 1, ["--workers", "2"]);
    base = cluster.bases[0]!;
  };

  beforeAll(async () => {
    fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    root = await makeTempRoot(shopFiles());
    if (backend === "postgres") {
      pgDb = await createTestDatabase();
      db = pgDb.url({ schema: randomName("shop") });
    } else {
      db = path.join(root, ".jit", "shop.sqlite");
    }
    await start();
  }, 120_000);
  afterAll(async () => {
    await cluster?.stop();
    await fake?.close();
    await pgDb?.drop();
    if (root) await removeDir(root);
  });

  const login = async (openId: string): Promise<string> => {
    const first = await post(base, `${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId }) });
    let loginCode = first.body.data.loginCode as string | undefined;
    if (!loginCode) {
      const registered = await post(base, `${LOGIN}/register`, { bindCode: first.body.data.bindCode });
      expect(registered.status).toBe(200);
      loginCode = (await post(base, `${LOGIN}/getLoginCode`, { code: fake.mintCode({ appId: DEMO_APPID, openId }) })).body.data.loginCode;
    }
    const session = await post(base, `${AUTH}/loginByCode`, { loginCode });
    expect(session.status).toBe(200);
    return session.body.data.token as string;
  };
  const mine = async (who: string) => (await post(base, `${SVC}/myOrders`, {}, { token: tokens[who] })).body.data;

  it("each user's orders are their own", async () => {
    tokens.ann = await login("o-ann");
    tokens.bob = await login("o-bob");
    for (const [who, item, qty] of [["ann", "tea", 2], ["bob", "cake", 1], ["ann", "bun", 3]] as const) {
      const placed = await post(base, `${SVC}/placeOrder`, { item, qty }, { token: tokens[who] });
      expect(placed.status, placed.text).toBe(200);
      expect(placed.body.data).toMatchObject({ item, qty, id: expect.any(Number) });
    }
    expect((await mine("ann")).rowDatas.map((r: { item: string }) => r.item)).toEqual(["tea", "bun"]);
    expect((await mine("bob")).rowDatas.map((r: { item: string }) => r.item)).toEqual(["cake"]);
    expect((await post(base, `${SVC}/myOrders`, {})).body.error.code).toBe("LOGIN_REQUIRED");
  });

  it("answers bad rows, bad filters and SQL-looking text with coded 4xx, writing nothing", async () => {
    const before = (await mine("ann")).totalCount;
    const cases: Array<[string, unknown, number, string]> = [
      ["placeOrder", { item: "x".repeat(65), qty: 1 }, 400, "MODEL_VALUE_INVALID"],
      ["placeOrder", { item: "tea", qty: 0 }, 422, "ORDER_EMPTY"],
      ["placeOrder", { item: "tea", qty: "1; DROP TABLE users" }, 400, "API_PARAMS_ERROR"],
      ["searchMine", { filter: { item: { "; DROP": "x" } } }, 400, "MODEL_FILTER_INVALID"],
      ["searchMine", { filter: { "1=1 OR item": "x" } }, 400, "MODEL_FIELD_UNKNOWN"],
      ["searchMine", { filter: { qty: { in: "1,2" } } }, 400, "MODEL_FILTER_INVALID"],
    ];
    for (const [fn, body, status, code] of cases) {
      const reply = await post(base, `${SVC}/${fn}`, body, { token: tokens.ann });
      expect({ status: reply.status, code: reply.body?.error?.code }, JSON.stringify(body)).toEqual({ status, code });
      expect(reply.text).not.toMatch(/SELECT|INSERT|sqlite|postgres|\.ts|stack/i);
    }
    expect((await mine("ann")).totalCount).toBe(before);
    const evil = `tea'); DELETE FROM "models.OrderModel"; --`;
    const stored = await post(base, `${SVC}/placeOrder`, { item: evil, qty: 1 }, { token: tokens.ann });
    expect(stored.body.data.item).toBe(evil);
    expect((await post(base, `${SVC}/searchMine`, { filter: { item: evil } }, { token: tokens.ann })).body.data.totalCount).toBe(1);
    expect((await mine("bob")).totalCount).toBe(1);
  });

  it("keeps every order across a restart", async () => {
    const before = { ann: await mine("ann"), bob: await mine("bob") };
    await cluster!.stop();
    await start();
    expect(await mine("ann")).toEqual(before.ann);
    expect(await mine("bob")).toEqual(before.bob);
  }, 120_000);
});
