import type { FastifyReply, FastifyRequest } from "fastify";
import { isJitError } from "../errors/index.ts";

/**
 * GET /healthz: 200 `{ status: "ok" }` while every served app's database answers (Store.ping: a read on
 * each connection, no lock, nothing written), else 503 `{ status: "unavailable", error: { code,
 * message, requestId } }` so a load balancer takes the instance out. The store's own message
 * names the database file: it goes to the log, the client gets the code only.
 *
 * A failure is logged at error once when the database stops answering (then at debug per
 * poll, so a load balancer polling every second does not flood the log), and at info when it
 * answers again.
 */
export function healthHandler(databases: { ping(): Promise<void> }) {
  let failing = false;
  return async function health(request: FastifyRequest, reply: FastifyReply) {
    try {
      await databases.ping();
      if (failing) {
        failing = false;
        request.log.info("health check ok again");
      }
      return { status: "ok" };
    } catch (err) {
      const code = isJitError(err) ? err.code : "INTERNAL_ERROR";
      request.log[failing ? "debug" : "error"]({ code, detail: err instanceof Error ? err.message : String(err) }, "health check failed");
      failing = true;
      return reply.code(503).send({ status: "unavailable", error: { code, message: "the database does not answer", requestId: request.id } });
    }
  };
}
