import path from "node:path";
import { pathToFileURL } from "node:url";
import { REPO } from "../helpers/http.ts";
import { ORDER_MODEL } from "./fixture.ts";

/**
 * The shop, as files of an app developer's `apps/demo`: OrderModel, and OrderSvc
 * whose functions know the caller through currentUser(). The service imports the runtime
 * by file URL here (the temp folder has no node_modules); an app imports "jit-runtime".
 */
export function shopFiles(runtimeUrl = pathToFileURL(path.join(REPO, "runtime/index.ts")).href): Record<string, string> {
  return {
    "apps/demo/elements/models/OrderModel/e.json": JSON.stringify(ORDER_MODEL, null, 2),
    "apps/demo/elements/services/OrderSvc/e.json": JSON.stringify(
      {
        type: "services.NormalType",
        title: "Orders",
        backendBundleEntry: ".",
        errorCodes: { ORDER_EMPTY: { status: 422, message: "an order needs at least one item" } },
        functionList: [
          { name: "placeOrder", args: [{ name: "item", dataType: "Stext" }, { name: "qty", dataType: "Numeric" }] },
          { name: "myOrders", args: [] },
          { name: "searchMine", args: [{ name: "filter", dataType: "JitDict" }] },
        ],
      },
      null,
      2,
    ),
    "apps/demo/elements/services/OrderSvc/index.ts": `import { currentUser, ServiceError } from ${JSON.stringify(runtimeUrl)};

export default (Parent: any) =>
  class extends Parent {
    get orders() {
      return this.app.getElement("models.OrderModel");
    }
    async placeOrder(item: string, qty: number) {
      if (qty < 1) throw new ServiceError("ORDER_EMPTY", { status: 422, message: "an order needs at least one item" });
      return this.orders.create({ userId: currentUser()!.userId, item, qty, createdAt: Date.now() });
    }
    async myOrders() {
      return this.orders.query({ filter: { userId: currentUser()!.userId }, orderList: [["id", 1]], size: 100 });
    }
    // The client's own conditions, narrowed to the caller's rows.
    async searchMine(filter: Record<string, unknown>) {
      return this.orders.query({ filter: { ...filter, userId: currentUser()!.userId } });
    }
  };
`,
  };
}
