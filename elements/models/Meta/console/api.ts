import type { FastifyInstance } from "fastify";
import { HttpError, runWithCallContext, type AppContext, type ConsoleKit, type FamilyConsole } from "jit-runtime/element";
import { modelSchemas, type Model } from "../index.ts";

/**
 * The models family's part of the console's JSON API (behind the admin token and loopback
 * checks): the app's models with their fields, and one model's rows page by page. Read-only:
 * nothing here writes.
 */

const ROWS_QUERY = {
  type: "object",
  properties: {
    model: { type: "string", pattern: "^[A-Za-z0-9_$.-]{1,200}$" },
    page: { type: "string", pattern: "^[0-9]{1,9}$" },
    size: { type: "string", pattern: "^[0-9]{1,3}$" },
  },
  required: ["model"],
  additionalProperties: false,
} as const;

function routes(server: FastifyInstance, app: AppContext): void {
  const models = () => modelSchemas(app).map((s) => ({ fullName: s.fullName, title: app.getElementDefine(s.fullName).title, fields: s.fields }));

  server.get("/console/api/models", async () => ({ models: models() }));

  server.get<{ Querystring: { model: string; page?: string; size?: string } }>("/console/api/models/rows", { schema: { querystring: ROWS_QUERY } }, async (request) => {
    const found = models().find((m) => m.fullName === request.query.model);
    if (!found) throw new HttpError("ROUTE_NOT_FOUND", { method: "GET", url: request.url });
    const page = Math.max(Number(request.query.page ?? 1), 1);
    const size = Math.min(Math.max(Number(request.query.size ?? 20), 1), 100);
    const model = app.getElement<Model>(found.fullName);
    const result = await runWithCallContext({ via: "console", requestId: request.id }, () => model.query({ page, size }));
    return { fullName: found.fullName, fields: found.fields, page, size, ...result };
  });
}

export const modelsConsole: FamilyConsole = {
  overview: (app: AppContext, _kit: ConsoleKit) => ({ models: modelSchemas(app).map((s) => s.fullName) }),
  routes,
};
