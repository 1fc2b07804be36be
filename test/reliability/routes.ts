import type { FunctionDecl } from "../../runtime/element/types.ts";
import { elementPath, servedElements } from "../../runtime/http/routes.ts";
import type { ServedApp } from "../../runtime/http/types.ts";

/** A served route, found from the app's functionList as the server finds it: new routes are covered when they land. */
export interface ServedRoute {
  url: string;
  decl: FunctionDecl;
}

export function servedRoutes(app: ServedApp): ServedRoute[] {
  return servedElements(app).flatMap((define) =>
    define.functionList.map((decl) => ({ url: `${elementPath(app.appId, define.fullName)}/${decl.name}`, decl })),
  );
}
