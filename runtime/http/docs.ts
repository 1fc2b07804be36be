import type { FastifyInstance } from "fastify";
import { buildOpenApi } from "./openapi.ts";
import type { ServedApp } from "./types.ts";

/**
 * `GET /openapi.json` (always: it describes only what the routes already expose) and, when
 * asked, the interactive API page at `/docs`: Swagger UI served from the package's own files
 * (@fastify/swagger-ui ships its bundle; nothing is fetched from a CDN), with its strict
 * Content-Security-Policy on. `refresh` rebuilds the document after an app is reloaded.
 */
export async function registerApiDocs(
  server: FastifyInstance,
  apps: () => ServedApp[],
  options: { docs: boolean; version?: string },
): Promise<{ refresh(): void }> {
  const build = () => buildOpenApi(apps(), { ...(options.version ? { version: options.version } : {}) });
  // One object for the page's whole life: Swagger UI was given it at registration, so a
  // rebuild replaces its contents in place.
  const document = build();
  let body = JSON.stringify(document);
  const refresh = () => {
    const next = build();
    for (const key of Object.keys(document)) delete document[key];
    Object.assign(document, next);
    body = JSON.stringify(document);
  };
  server.get("/openapi.json", (_request, reply) => {
    reply.type("application/json; charset=utf-8").send(body);
  });
  if (!options.docs) return { refresh };
  // Loaded only when asked: the UI bundle and its static-file plugin cost start-up time.
  const [{ default: swagger }, { default: swaggerUi }] = await Promise.all([import("@fastify/swagger"), import("@fastify/swagger-ui")]);
  await server.register(swagger, { mode: "static", specification: { document: document as never } });
  await server.register(swaggerUi, {
    routePrefix: "/docs",
    staticCSP: true,
    uiConfig: { deepLinking: true, tryItOutEnabled: true, validatorUrl: null } as never,
  });
  return { refresh };
}
