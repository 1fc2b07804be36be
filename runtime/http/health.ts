import type { FastifyReply, FastifyRequest } from "fastify";
import { JitError } from "../errors/index.ts";
import type { ServedApp } from "./types.ts";

/**
 * GET /healthz: 200 `{ status: "ok" }` while the app's database answers a read and a write
 * transaction (Store.ping), else 503 `{ status: "unavailable", error: { code, message,
 * requestId } }` so a load balancer takes the instance out. The store's own message names
 * the database file: it goes to the log, the client gets the code only.
 */
export function healthHandler(app: Pick<ServedApp, "getStore">) {
  return async function health(request: FastifyRequest, reply: FastifyReply) {
    try {
      await (await app.getStore()).ping();
      return { status: "ok" };
    } catch (err) {
      const code = err instanceof JitError ? err.code : "INTERNAL_ERROR";
      request.log.error({ code, detail: err instanceof Error ? err.message : String(err) }, "health check failed");
      return reply.code(503).send({ status: "unavailable", error: { code, message: "the database does not answer", requestId: request.id } });
    }
  };
}
