import { afterEach, describe, expect, it } from "vitest";
import { startStack, type Stack } from "./helpers/http.ts";

// GET /healthz answers for the database, not just for the process.

const stacks: Stack[] = [];
afterEach(async () => {
  await Promise.all(stacks.splice(0).map((s) => s.close()));
});

async function health(stack: Stack) {
  const res = await fetch(`${stack.base}/healthz`);
  return { status: res.status, requestId: res.headers.get("x-request-id"), body: (await res.json()) as Record<string, any> };
}

describe("GET /healthz", () => {
  for (const sqliteWriter of ["inline", "worker"] as const) {
    it(`is 200 while the database answers, 503 STORE_CLOSED once it is closed (${sqliteWriter} writes)`, async () => {
      const stack = await startStack({ sqliteWriter });
      stacks.push(stack);
      const userId = await stack.register("alice");
      expect(await health(stack)).toMatchObject({ status: 200, body: { status: "ok" } });
      // Health checks write nothing: the user is still there and still the only one.
      expect((await stack.login("alice")).userId).toBe(userId);

      await stack.app.close();
      const down = await health(stack);
      expect(down.status).toBe(503);
      expect(down.body).toEqual({
        status: "unavailable",
        error: { code: "STORE_CLOSED", message: "the database does not answer", requestId: down.requestId },
      });
      // The file's path is for the operator's log only.
      expect(JSON.stringify(down.body)).not.toContain(stack.dbFile);
      const line = stack
        .logs()
        .split("\n")
        .find((l) => l.includes(String(down.requestId)) && l.includes("health check failed"));
      expect(line).toBeDefined();
      expect(JSON.parse(line!)).toMatchObject({ code: "STORE_CLOSED", detail: expect.stringContaining(stack.dbFile) });
    });
  }
});
