import type { ServeOptions, Serving } from "./http/listen.ts";

export type { ServeOptions, Serving } from "./http/listen.ts";

/**
 * Serves an app over HTTP as `jit serve` does (routes, limits, graceful shutdown). Fastify is
 * imported on the first call, so a script that only loads an app does not pay for it.
 */
export async function serveApp(options: ServeOptions): Promise<Serving> {
  const http = await import("./http/listen.ts");
  return http.serveApp(options);
}
