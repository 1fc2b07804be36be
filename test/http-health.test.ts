import fs from "node:fs/promises";
import Database from "better-sqlite3";
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

      // Nothing is written: the WAL does not move.
      const walSize = async () => (await fs.stat(`${stack.dbFile}-wal`)).size;
      const before = await walSize();
      for (let i = 0; i < 5; i++) expect((await health(stack)).status).toBe(200);
      expect(await walSize()).toBe(before);

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

    it(`stays 200 while another connection holds the write lock (${sqliteWriter} writes)`, async () => {
      const stack = await startStack({ sqliteWriter });
      stacks.push(stack);
      await stack.register("bob");
      // A CLI command or a second process mid-write: health checks do not wait for it
      // (before, they waited out the busy timeout, 5 s, and then answered 503).
      const other = new Database(stack.dbFile);
      other.prepare("BEGIN IMMEDIATE").run();
      try {
        expect(await health(stack)).toMatchObject({ status: 200, body: { status: "ok" } });
      } finally {
        other.prepare("ROLLBACK").run();
        other.close();
      }
    });
  }
});
