import { Writable } from "node:stream";
import path from "node:path";
import type { FastifyInstance } from "fastify";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { createServer } from "../runtime/http/server.ts";
import { buildOpenApi } from "../runtime/http/openapi.ts";
import { createLogger } from "../runtime/logging/logger.ts";
import type { App } from "../runtime/index.ts";
import { appJson, loadFixtureApp, makeFixture, type Tree } from "./helpers/appFixture.ts";

/**
 * An app developer's own family, as ARCHITECTURE.md describes it: a Meta whose folder carries
 * family.ts (codes, secrets, a session lookup, a per-key limit). The runtime learns all of it
 * from that module and names none of it.
 */

const ELEMENT = JSON.stringify(new URL("../runtime/element/index.ts", import.meta.url).href);
const SHOP_TOKEN = "shop-session-token-0123456789";
const CARD = "4111-1111-1111-1111";
const VOUCHER = "VOUCHER-SECRET-77";

function shopFamily(): Tree {
  return {
    "elements/shop/Meta/e.json": { title: "Shop Meta", type: "" },
    "elements/shop/Meta/errors.ts": `import { defineErrorClass } from ${ELEMENT};
export const SHOP_ERROR_CODES = {
  OUT_OF_STOCK: { family: "shop", status: 409, message: "{item} is sold out", retryAfter: 30, answeredBy: ["shop.OrderType"] },
} as const;
export const ShopError = defineErrorClass("ShopError", "shop", SHOP_ERROR_CODES);
`,
    "elements/shop/Meta/family.ts": `import { defineFamily } from ${ELEMENT};
import { SHOP_ERROR_CODES } from "./errors.ts";
export default defineFamily({
  errors: SHOP_ERROR_CODES,
  secrets: { fields: ["cardNumber"], args: ["voucher"] },
  sessionLookup: async (token) => (token === ${JSON.stringify(SHOP_TOKEN)} ? { userId: 7, corpId: "corp-1" } : null),
  limits: { basket: { env: "SHOP_RATE_LIMIT_BASKET", default: "2/minute", description: "one basket" } },
});
`,
    "elements/shop/OrderType/e.json": {
      title: "Orders",
      type: "shop.Meta",
      backendBundleEntry: ".",
      functionList: [
        { name: "whoAmI", args: [], loginRequired: 1 },
        { name: "buy", args: [{ name: "item", dataType: "Stext" }, { name: "voucher", dataType: "Stext" }], loginRequired: 0, rateLimit: [] },
      ],
    },
    "elements/shop/OrderType/index.ts": `import { currentCallContext } from ${ELEMENT};
import { ShopError } from "../Meta/errors.ts";
export default (Parent: any) => class Orders extends Parent {
  whoAmI() {
    const context = currentCallContext();
    return { userId: context?.userId, corpId: context?.corpId };
  }
  async buy(item: string, voucher: string) {
    this.app.logger.info({ args: { item, voucher }, cardNumber: ${JSON.stringify(CARD)} }, "buying");
    await currentCallContext()?.limit?.("basket", "basket-1");
    if (item === "tea") throw new ShopError("OUT_OF_STOCK", { item });
    return "bought " + item;
  }
};
`,
    "elements/shop/orders/e.json": { title: "Orders", type: "shop.OrderType", frontBundleEntry: "./orders.json" },
    "elements/shop/orders/orders.json": { cardNumber: CARD, currency: "CNY" },
    ...appJson("shop"),
  };
}

describe("a family of the app developer's own", () => {
  let fixture: { root: string; cleanup: () => Promise<void> };
  let app: App;
  let server: FastifyInstance;
  let base: string;
  const lines: string[] = [];
  const sink = new Writable({
    write(chunk, _encoding, done) {
      lines.push(String(chunk));
      done();
    },
  });

  beforeAll(async () => {
    fixture = await makeFixture(shopFamily(), "jit-family-");
    app = await loadFixtureApp({ root: fixture.root, appId: "shop", env: {}, logger: createLogger({ level: "info", destination: sink }) });
    server = await createServer({ app, logger: { level: "info", stream: sink }, env: {} });
    base = await server.listen({ host: "127.0.0.1", port: 0 });
  });
  afterAll(async () => {
    await server?.close();
    await app?.close();
    await fixture?.cleanup();
  });

  const call = async (fn: string, body: unknown, token?: string) => {
    const res = await fetch(`${base}/api/shop/shop/orders/${fn}`, {
      method: "POST",
      headers: { "content-type": "application/json", ...(token ? { authorization: `Bearer ${token}` } : {}) },
      body: JSON.stringify(body),
    });
    return { status: res.status, retryAfter: res.headers.get("retry-after"), body: (await res.json()) as any };
  };

  it("is found from its Meta's folder, its codes merged into the app's table", () => {
    expect(app.families.list.map((f) => [f.name, f.meta, path.relative(fixture.root, f.file)])).toEqual([["shop", "shop.Meta", path.join("elements", "shop", "Meta", "family.ts")]]);
    expect(app.families.errors.get("OUT_OF_STOCK")).toMatchObject({ owner: "shop", spec: { status: 409 } });
    expect(app.families.errors.get("TOKEN_INVALID")).toMatchObject({ owner: "jit-runtime" });
  });

  it("looks the session up through the family's hook and hands { userId, corpId } to element code", async () => {
    expect(await call("whoAmI", {}, SHOP_TOKEN)).toMatchObject({ status: 200, body: { data: { userId: 7, corpId: "corp-1" } } });
    expect(await call("whoAmI", {}, "not-a-shop-token-0123456789")).toMatchObject({ status: 401, body: { error: { code: "TOKEN_INVALID" } } });
  });

  it("answers the family's code with its status and Retry-After, and counts the family's limit", async () => {
    expect(await call("buy", { item: "tea", voucher: VOUCHER })).toMatchObject({ status: 409, retryAfter: "30", body: { error: { code: "OUT_OF_STOCK", message: "tea is sold out" } } });
    expect(await call("buy", { item: "rice", voucher: VOUCHER })).toMatchObject({ status: 200, body: { data: "bought rice" } });
    // 2/minute by the family's default: the third hit on the same basket is refused.
    expect(await call("buy", { item: "rice", voucher: VOUCHER })).toMatchObject({ status: 429, body: { error: { code: "RATE_LIMITED" } } });
  });

  it("redacts the family's secrets in every log line and masks them in shown config", () => {
    const log = lines.join("");
    expect(log).toContain('"buying"');
    expect(log).not.toContain(CARD);
    expect(log).not.toContain(VOUCHER);
    expect(app.getMaskedConfig("shop.orders")).toEqual({ cardNumber: "******", currency: "CNY" });
  });

  it("lists the family's codes in OpenAPI for the elements that answer them", () => {
    const doc = buildOpenApi(app) as any;
    const buy = doc.paths["/api/shop/shop/orders/buy"].post;
    expect(buy.responses["409"].description).toContain("OUT_OF_STOCK");
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain("OUT_OF_STOCK");
  });
});

describe("a family that does not fit stops the load", () => {
  it("refuses a code two families define, naming both families and files", async () => {
    const fixture = await makeFixture(
      {
        ...shopFamily(),
        "elements/stock/Meta/e.json": { title: "Stock Meta", type: "" },
        "elements/stock/Meta/family.ts": `export default { errors: { OUT_OF_STOCK: { family: "stock", status: 409, message: "gone" } } };\n`,
      },
      "jit-family-dup-",
    );
    try {
      const failed = await loadFixtureApp({ root: fixture.root, appId: "shop", env: {} }).catch((e: unknown) => e);
      expect(failed).toMatchObject({ code: "DECLARATION_INVALID" });
      const problems = (failed as { problems: Array<{ code: string; message: string }> }).problems;
      expect(problems.map((p) => p.code)).toEqual(["ERROR_CODE_DUPLICATE"]);
      expect(problems[0]!.message).toMatch(/OUT_OF_STOCK is defined twice: by stock \(.*stock\/Meta\/family\.ts\) and by shop \(.*shop\/Meta\/family\.ts\)/);
    } finally {
      await fixture.cleanup();
    }
  });

  it("refuses a family code that takes a runtime code", async () => {
    const fixture = await makeFixture(
      { ...appJson("shop"), "elements/shop/Meta/e.json": { title: "Shop", type: "" }, "elements/shop/Meta/family.ts": `export default { errors: { TOKEN_INVALID: { family: "shop", status: 401, message: "mine" } } };\n` },
      "jit-family-rt-",
    );
    try {
      const failed = await loadFixtureApp({ root: fixture.root, appId: "shop", env: {} }).catch((e: unknown) => e);
      expect((failed as { problems: Array<{ message: string }> }).problems[0]!.message).toMatch(/TOKEN_INVALID is defined twice: by shop .* and by jit-runtime \(runtime\/errors\/codes\.ts\)/);
    } finally {
      await fixture.cleanup();
    }
  });

  it("names every problem of a malformed family module, with its file", async () => {
    const fixture = await makeFixture(
      {
        ...appJson("shop"),
        "elements/shop/Meta/e.json": { title: "Shop", type: "" },
        "elements/shop/Meta/family.ts": `export default { errors: { "bad code": {} }, hooks: {}, sessionLookup: "no", limits: { ip: { env: "x" } } };\n`,
      },
      "jit-family-bad-",
    );
    try {
      const failed = (await loadFixtureApp({ root: fixture.root, appId: "shop", env: {} }).catch((e: unknown) => e)) as { problems: Array<{ code: string; message: string; file: string }> };
      expect(failed.problems.every((p) => p.code === "FAMILY_INVALID" && p.file.endsWith(path.join("shop", "Meta", "family.ts")))).toBe(true);
      const messages = failed.problems.map((p) => p.message).join("\n");
      for (const part of ['unknown key "hooks"', "errors.bad code", "sessionLookup must be a function", "limits.ip"]) expect(messages).toContain(part);
    } finally {
      await fixture.cleanup();
    }
  });
});
