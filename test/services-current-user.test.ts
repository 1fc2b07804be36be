import path from "node:path";
import { pathToFileURL } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { currentUser, runAs } from "../runtime/index.ts";
import { buildOpenApi } from "../runtime/http/openapi.ts";
import { errorOf, runJit } from "./helpers/cliRun.ts";
import { REPO, startStack, TEST_MASTER_KEY, type Stack } from "./helpers/http.ts";

// A developer's own service: functions that know who calls them, and a code of their own.

const RUNTIME = JSON.stringify(pathToFileURL(path.join(REPO, "runtime/index.ts")).href);
const SVC = "/api/demo/services/OrderSvc";

const extraFiles = {
  "apps/demo/elements/services/OrderSvc/e.json": JSON.stringify({
    type: "services.NormalType",
    title: "Orders",
    backendBundleEntry: ".",
    errorCodes: { ORDER_EMPTY: { status: 422, message: "an order needs at least one item" } },
    functionList: [
      { name: "whoAmI", args: [] },
      { name: "hello", args: [], loginRequired: 0 },
      { name: "placeOrder", args: [{ name: "item", dataType: "Stext" }, { name: "qty", dataType: "Numeric" }] },
    ],
  }),
  "apps/demo/elements/services/OrderSvc/index.ts": `import { currentUser, ServiceError } from ${RUNTIME};
export default (Parent: any) => class extends Parent {
  async whoAmI() { return await Promise.resolve().then(() => currentUser() ?? null); }
  hello() { return { user: currentUser() ?? null }; }
  placeOrder(item: string, qty: number) {
    if (qty < 1) throw new ServiceError("ORDER_EMPTY", { status: 422, message: "an order needs at least one item" });
    return { item, qty, by: currentUser()!.userId };
  }
};\n`,
};

describe("services that know the current user", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack({ extraFiles });
  });
  afterAll(async () => {
    await stack?.close();
  });

  it("refuses a loginRequired function (the default) with 401 before its body runs", async () => {
    const reply = await stack.call(`${SVC}/whoAmI`, {});
    expect(reply.status).toBe(401);
    expect(reply.body.error.code).toBe("LOGIN_REQUIRED");
    const bad = await stack.call(`${SVC}/whoAmI`, {}, { token: "x".repeat(43) });
    expect(bad.status).toBe(401);
    expect(bad.body.error.code).toBe("TOKEN_INVALID");
  });

  it("gives the function the caller's userId and corpId, each user their own", async () => {
    const alice = await stack.register("o-alice");
    const bob = await stack.register("o-bob");
    const a = await stack.login("o-alice");
    const b = await stack.login("o-bob");
    expect((await stack.call(`${SVC}/whoAmI`, {}, { token: a.token })).body.data).toEqual({ userId: alice, corpId: "demo-corp" });
    expect((await stack.call(`${SVC}/whoAmI`, {}, { token: b.token })).body.data).toEqual({ userId: bob, corpId: "demo-corp" });
    const order = await stack.call(`${SVC}/placeOrder`, { item: "tea", qty: 2 }, { token: b.token });
    expect(order.body.data).toEqual({ item: "tea", qty: 2, by: bob });
  });

  it("sees an anonymous call of a loginRequired 0 function as no user", async () => {
    const reply = await stack.call(`${SVC}/hello`, {});
    expect(reply.status).toBe(200);
    expect(reply.body.data).toEqual({ user: null });
  });

  it("sends a ServiceError's own code and status in the error envelope", async () => {
    const { token } = await stack.login("o-alice");
    const reply = await stack.call(`${SVC}/placeOrder`, { item: "tea", qty: 0 }, { token });
    expect(reply.status).toBe(422);
    expect(reply.body.error).toEqual({ code: "ORDER_EMPTY", message: "an order needs at least one item", requestId: reply.headers.get("x-request-id") });
  });

  it("lists the service's declared codes in OpenAPI", () => {
    const doc = buildOpenApi(stack.app) as any;
    const op = doc.paths["/api/demo/services/OrderSvc/placeOrder"].post;
    expect(op.responses["422"].content["application/json"].schema.allOf[1].properties.error.properties.code.enum).toEqual(["ORDER_EMPTY"]);
    expect(op.responses["401"]).toBeDefined();
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).toContain("ORDER_EMPTY");
    expect(doc.components.schemas.Error.properties.error.properties.code.enum).not.toContain("SERVICE_ERROR");
  });

  it("runAs gives scripts a current user; outside it there is none", async () => {
    const svc = stack.app.getElement<{ whoAmI(): Promise<unknown> }>("services.OrderSvc");
    expect(await svc.whoAmI()).toBeNull();
    expect(await runAs(7, () => svc.whoAmI())).toEqual({ userId: 7, corpId: null });
    expect(await runAs(7, () => currentUser(), { corpId: "c1" })).toEqual({ userId: 7, corpId: "c1" });
    expect(() => runAs(Number.NaN, () => 1)).toThrow(/integer user id/);
  });

  it("jit call --as <userId>, or --token, runs the function as that user", async () => {
    const env = { JIT_MASTER_KEY: TEST_MASTER_KEY, JIT_DB: stack.dbFile };
    const as = await runJit(["--root", stack.root, "call", "services.OrderSvc", "whoAmI", "--as", "12", "--json"], env);
    expect(as.stderr).toBe("");
    expect(JSON.parse(as.stdout)).toEqual({ userId: 12, corpId: null });
    const { token, userId } = await stack.login("o-alice");
    const viaToken = await runJit(["--root", stack.root, "call", "services.OrderSvc", "whoAmI", "--json"], { ...env, JIT_TOKEN: token });
    expect(viaToken.stderr).toBe("");
    expect(JSON.parse(viaToken.stdout)).toEqual({ userId, corpId: "demo-corp" });
    const unknown = await runJit(["--root", stack.root, "call", "services.OrderSvc", "whoAmI"], { ...env, JIT_TOKEN: "x".repeat(43) });
    expect(errorOf(unknown.stderr)?.code).toBe("TOKEN_INVALID");
    const bad = await runJit(["--root", stack.root, "call", "services.OrderSvc", "whoAmI", "--as", "twelve"], env);
    expect(bad.code).toBe(1);
    expect(errorOf(bad.stderr)?.code).toBe("USAGE_ERROR");
  });
});
