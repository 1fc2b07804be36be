import type { FastifyInstance } from "fastify";
import { buildOpenApi } from "./openapi.ts";
import type { ServedApp } from "./types.ts";

/**
 * `GET /openapi.json` (always: it describes only what the routes already expose) and, when
 * asked, the interactive API page at `/docs`: Swagger UI served from the package's own files
 * (@fastify/swagger-ui ships its bundle; nothing is fetched from a CDN), with its strict
 * Content-Security-Policy on.
 */
export async function registerApiDocs(server: FastifyInstance, app: ServedApp, options: { docs: boolean; version?: string }): Promise<void> {
  const document = buildOpenApi(app, { ...(options.version ? { version: options.version } : {}) });
  const body = JSON.stringify(document);
  server.get("/openapi.json", (_request, reply) => {
    reply.type("application/json; charset=utf-8").send(body);
  });
  if (!options.docs) return;
  // Loaded only when asked: the UI bundle and its static-file plugin cost start-up time.
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import("@fastify/swagger"), import("@fastify/swagger-ui")]);
  await server.register(swagger, { mode: "static", specification: { document: document as never } });
  await server.register(swaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    uiConfig: { deepLinking: true, tryItOutEnabled: true, validatorUrl: null } as never,
  });
}
