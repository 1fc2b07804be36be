import type { FastifyInstance, FastifyRequest } from "fastify";
import { elementView } from "../../app/elementView.ts";
import type { AppContext } from "../../element/types.ts";
import type { ConsoleKit } from "../../family/types.ts";
import { elementPath, servedElements } from "../routes.ts";
import type { AppStatus, ServedApp } from "../types.ts";

/**
 * The console's JSON API under /console/api (the admin token and loopback checks run before
 * any of these, see index.ts): the overview and the element tree, then what each family of
 * the app adds (FamilyDefinition.console). Secrets stay masked (config as `jit show` prints it).
 * The overview also lists every served app, each with the problems `jit dev` found in its
 * last change (the server picks the app of a request by `?app=<appId>`, see server.ts).
 */

/** Every served app (its current version) and its status: what the overview lists. */
export interface ConsoleApps {
  apps(): ServedApp[];
  status(appId: string): AppStatus;
}

export type ConsoleApp = ServedApp & {
  title?: string;
  getMaskedConfig?: (fullName: string) => Record<string, unknown>;
  env?: Readonly<Record<string, string | undefined>>;
};

function adminLog(request: FastifyRequest, action: string, fields: Record<string, unknown>): void {
  // Request logs carry the request id; the admin token never appears (it is not a field).
  request.log.info({ admin: action, ...fields }, `console: ${action}`);
}

export function registerConsoleApi(server: FastifyInstance, app: ConsoleApp, host: ConsoleApps, env: Readonly<Record<string, string | undefined>>): void {
  const kit: ConsoleKit = {
    env: app.env ?? env,
    now: () => app.clock?.now() ?? Date.now(),
    elementPath: (fullName) => elementPath(app.appId, fullName),
    servedElements: () => servedElements(app),
    adminLog,
  };
  // The families' hooks take the app as element code sees it.
  const context = app as unknown as AppContext;
  const families = (app.families?.list ?? []).flatMap((family) => (family.definition.console ? [family.definition.console] : []));

  server.get("/console/api/overview", async () =>
    Object.assign(
      {
        appId: app.appId,
        apps: host.apps().map((a) => ({ appId: a.appId, title: (a as ConsoleApp).title ?? a.appId, problems: host.status(a.appId).problems })),
      },
      ...families.map((c) => c.overview?.(context, kit) ?? {}),
    ),
  );

  server.get("/console/api/elements", async () => {
    const listed = app.listElements?.() ?? [];
    const defines = listed.map((e) => (typeof e === "string" ? app.getElementDefine(e) : e));
    const served = new Set(servedElements(app).map((d) => d.fullName));
    return {
      elements: defines
        // Config masked exactly as `jit show` masks it.
        .map((d) => ({ ...elementView(d, app.getMaskedConfig?.(d.fullName) ?? {}), served: served.has(d.fullName) }))
        .sort((a, b) => a.fullName.localeCompare(b.fullName)),
    };
  });

  for (const family of families) family.routes?.(server, context, kit);
}
