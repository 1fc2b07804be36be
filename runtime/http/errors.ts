import { randomUUID } from "node:crypto";
import type { FastifyError, FastifyReply, FastifyRequest } from "fastify";
import { HttpError, isJitError, quoteInput, StoreError, type JitError, type ErrorCode } from "../errors/index.ts";
import { stripQuery } from "./logging.ts";

/**
 * The server's last-resort error handling. Fastify's default handler sends `error.message`
 * to the client (ARCHITECTURE.md, "Pitfalls"); ours sends only registered codes and their safe messages, and
 * anything unexpected becomes INTERNAL_ERROR with the request id, the detail in the log only.
 */

export interface ErrorBody {
  error: { code: ErrorCode; message: string; requestId: string };
}

interface AjvIssue {
  instancePath?: string;
  keyword?: string;
  message?: string;
  params?: Record<string, unknown>;
}

/** Problems named in one API_PARAMS_ERROR; a body of a thousand unknown keys gets a short answer. */
const MAX_ISSUES = 5;

/** Names the field (JSON pointer, quoted: it comes from the body) and the problem; never the value sent. */
export function describeValidation(issues: AjvIssue[]): string {
  const parts = issues.map((issue) => {
    const at = quoteInput(issue.instancePath || "");
    switch (issue.keyword) {
      case "required":
        return `${at}/${quoteInput(String(issue.params?.missingProperty))} is required`;
      case "additionalProperties":
        return `${at}/${quoteInput(String(issue.params?.additionalProperty))} is not a declared argument`;
      case "type":
        return `${at || "body"} must be ${issue.params?.type === "object" && !at ? "a JSON object" : `of type ${String(issue.params?.type)}`}`;
      default:
        return `${at || "body"} ${issue.message ?? "is invalid"}`;
    }
  });
  const unique = [...new Set(parts)];
  const more = unique.length - MAX_ISSUES;
  return unique.slice(0, MAX_ISSUES).join("; ") + (more > 0 ? `; and ${more} more problem(s)` : "");
}

function fastifyToJit(err: FastifyError, bodyLimit: number): JitError | null {
  if (Array.isArray((err as { validation?: unknown }).validation)) {
    return new HttpError("API_PARAMS_ERROR", { reason: describeValidation((err as { validation: AjvIssue[] }).validation) });
  }
  switch (err.code) {
    case "FST_ERR_CTP_BODY_TOO_LARGE":
      return new HttpError("BODY_TOO_LARGE", { limit: bodyLimit });
    case "FST_ERR_CTP_INVALID_JSON_BODY":
    case "FST_ERR_CTP_EMPTY_JSON_BODY":
    case "FST_ERR_CTP_INVALID_CONTENT_LENGTH":
      return new HttpError("BODY_MALFORMED");
    case "FST_ERR_CTP_INVALID_MEDIA_TYPE":
      return new HttpError("API_PARAMS_ERROR", { reason: "the request body must be JSON (Content-Type: application/json)" });
    case "FST_ERR_BAD_URL":
    case "FST_ERR_MAX_PARAM_LENGTH":
      // Fastify's own message echoes the URL; ours does not.
      return new HttpError("API_PARAMS_ERROR", { reason: "the request URL is malformed" });
  }
  // Body parsing of a request that is not JSON at all (e.g. a SyntaxError from the parser).
  if (err instanceof SyntaxError && (err as { statusCode?: number }).statusCode === 400) return new HttpError("BODY_MALFORMED");
  return null;
}

/** What a client is told of a database that does not answer (the log gets which database, and why). */
export const STORE_UNAVAILABLE_PUBLIC = "the database does not answer; retry in a moment";

export function errorReply(err: JitError, requestId: string): { status: number; body: ErrorBody; retryAfter?: number } {
  // The code's own Retry-After (its spec) or the error's `retryAfter` param; errors made by
  // another copy of the runtime carry the field too.
  const retry = Number(err.retryAfter);
  return {
    status: err.status,
    body: { error: { code: err.code, message: err.message, requestId } },
    ...(Number.isFinite(retry) ? { retryAfter: retry } : {}),
  };
}

export function makeErrorHandler(bodyLimit: number) {
  return function errorHandler(raw: FastifyError, request: FastifyRequest, reply: FastifyReply) {
    let err: JitError | null = isJitError(raw) ? raw : fastifyToJit(raw, bodyLimit);
    if (err && err.status === 500) {
      // Server-side faults (declarations, store, vault, config) name files and databases in
      // their messages: the operator reads them in the log, the client gets the request id.
      request.log.error({ code: err.code, detail: err.message }, "request failed");
      err = new HttpError("INTERNAL_ERROR", { requestId: request.id });
    } else if (err && err.family === "store") {
      // A store error that is not a fault (STORE_UNAVAILABLE: 503) keeps its code for the
      // client, not its message, which names the database host or file.
      request.log.error({ code: err.code, status: err.status, detail: err.message }, "request failed");
      err = new StoreError(err.code as ConstructorParameters<typeof StoreError>[0], {}, { message: STORE_UNAVAILABLE_PUBLIC });
    } else if (err) {
      const level = err.status >= 500 ? "error" : "info";
      request.log[level]({ code: err.code, status: err.status }, "request failed");
    } else {
      request.log.error({ err: raw }, "unexpected error");
      err = new HttpError("INTERNAL_ERROR", { requestId: request.id });
    }
    const out = errorReply(err, request.id);
    if (out.retryAfter !== undefined) reply.header("retry-after", String(out.retryAfter));
    reply.header("x-request-id", request.id);
    // Also set here: framework errors (a malformed URL) are answered without the onSend hooks.
    reply.header("cache-control", "no-store");
    return reply.code(out.status).type("application/json; charset=utf-8").send(out.body);
  };
}

/** 404 for everything that is not a route: names the missing element or function when the path says which. */
export function makeNotFoundHandler(classify: (method: string, path: string) => JitError) {
  return function notFound(request: FastifyRequest, reply: FastifyReply) {
    const err = classify(request.method, stripQuery(request.url).replace(/\?\[redacted\]$/, ""));
    const out = errorReply(err, request.id);
    reply.header("x-request-id", request.id);
    return reply.code(out.status).send(out.body);
  };
}

/**
 * The answer to a request that arrives while the server is closing (on a keep-alive or
 * pipelined connection: new connections are no longer accepted). Fastify's own
 * return503OnClosing writes a raw body without our envelope or request id; this replaces it.
 */
export function sendClosing(request: FastifyRequest, reply: FastifyReply): FastifyReply {
  const out = errorReply(new HttpError("SERVER_CLOSING"), request.id);
  request.log.info({ code: "SERVER_CLOSING", status: out.status }, "request refused: shutting down");
  return reply
    .code(out.status)
    .header("x-request-id", request.id)
    .header("connection", "close")
    .header("retry-after", String(out.retryAfter))
    .type("application/json; charset=utf-8")
    .send(out.body);
}

/**
 * Requests Node's HTTP parser rejects before Fastify sees them (bad framing, oversized
 * headers, timeouts): the same envelope as every other error, written on the raw socket.
 */
export function clientErrorHandler(err: NodeJS.ErrnoException, socket: import("node:net").Socket): void {
  if (err.code === "ECONNRESET" || socket.destroyed) return;
  const reason =
    err.code === "HPE_HEADER_OVERFLOW" ? "request headers are too large" : err.code === "ERR_HTTP_REQUEST_TIMEOUT" ? "the request took too long to arrive" : "malformed HTTP request";
  const requestId = randomUUID();
  const out = errorReply(new HttpError("API_PARAMS_ERROR", { reason }), requestId);
  const body = JSON.stringify(out.body);
  if (socket.writable) {
    socket.write(
      `HTTP/1.1 ${out.status} Bad Request\r\nContent-Type: application/json; charset=utf-8\r\nContent-Length: ${Buffer.byteLength(body)}\r\nx-request-id: ${requestId}\r\nCache-Control: no-store\r\nConnection: close\r\n\r\n${body}`,
    );
  }
  socket.destroy();
}
