import { readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import type { FastifyInstance, FastifyReply } from "fastify";
import { ConfigError, HttpError } from "../../errors/index.ts";
import { adminBearer, type AdminToken } from "./adminToken.ts";
import { registerConsoleApi, type ConsoleApp, type ConsoleApps } from "./api.ts";

/**
 * The browser console at /console: static assets built from ./ui (npm run build:console,
 * run by `prepare`) and the JSON API under /console/api. An admin surface: off unless asked,
 * answering only on loopback unless `allowRemote`, every API call behind the admin token,
 * every answer under a strict Content-Security-Policy (the UI has no inline script or style).
 *
 * The assets are the server's (registerConsole); the API is each app version's own
 * (registerConsoleApiScope, in that version's instance, see appServer.ts), so a family's
 * routes always work on the app version serving now, and on the app `?app=<appId>` chose.
 */

export interface ConsoleOptions {
  adminToken: AdminToken;
  /** Serve the console to non-loopback clients too (the admin token still applies). */
  allowRemote?: boolean;
  /** Built assets; default ./ui/dist beside this file. */
  assetsDir?: string;
  env?: Readonly<Record<string, string | undefined>>;
}

export const CONSOLE_CSP =
  "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; font-src 'self'; " +
  "object-src 'none'; frame-ancestors 'none'; base-uri 'none'; form-action 'none'";

export const DEFAULT_ASSETS = path.join(path.dirname(fileURLToPath(import.meta.url)), "ui", "dist");

const TYPES: Record<string, string> = {
  "index.html": "text/html; charset=utf-8",
  "app.js": "text/javascript; charset=utf-8",
  "app.css": "text/css; charset=utf-8",
};

function loadAssets(dir: string): Map<string, Buffer> {
  const assets = new Map<string, Buffer>();
  for (const name of Object.keys(TYPES)) {
    try {
      assets.set(name, readFileSync(path.join(dir, name)));
    } catch {
      throw new ConfigError("CONFIG_INVALID", { source: "console", reason: `assets not built: ${path.join(dir, name)} is missing; run npm run build:console` });
    }
  }
  return assets;
}

function isLoopback(ip: string): boolean {
  return ip === "127.0.0.1" || ip === "::1" || ip.startsWith("127.") || ip === "::ffff:127.0.0.1";
}

/** Security headers, the loopback check and, for the API, the admin token: on every console request. */
function guard(scope: FastifyInstance, options: ConsoleOptions): void {
  scope.addHook("onRequest", (request, reply, done) => {
    reply.header("content-security-policy", CONSOLE_CSP);
    reply.header("x-content-type-options", "nosniff");
    reply.header("referrer-policy", "no-referrer");
    reply.header("x-frame-options", "DENY");
    // request.ip is the peer, or the client a trusted proxy names (JIT_TRUST_PROXY).
    if (!options.allowRemote && !isLoopback(request.ip)) return done(new HttpError("CONSOLE_FORBIDDEN", { ip: request.ip }));
    if (request.url.startsWith("/console/api/")) {
      const token = adminBearer(request.headers.authorization);
      if (token === null || !options.adminToken.verify(token)) {
        request.log.warn({ admin: "refused" }, "console: admin token missing or wrong");
        return done(new HttpError("ADMIN_TOKEN_INVALID"));
      }
    }
    done();
  });
}

/** The console's page and assets, on the server that listens. */
export async function registerConsole(server: FastifyInstance, options: ConsoleOptions): Promise<void> {
  const assets = loadAssets(options.assetsDir ?? DEFAULT_ASSETS);
  const send = (reply: FastifyReply, name: string) => reply.type(TYPES[name]!).send(assets.get(name));
  await server.register(async (scope) => {
    guard(scope, options);
    scope.get("/console", (_request, reply) => reply.redirect("/console/"));
    scope.get("/console/", (_request, reply) => send(reply, "index.html"));
    scope.get<{ Params: { file: string } }>("/console/assets/:file", (request, reply) => {
      const name = request.params.file;
      if (name === "index.html" || !assets.has(name)) throw new HttpError("ROUTE_NOT_FOUND", { method: "GET", url: request.url });
      return send(reply, name);
    });
  });
}

/** The console's API under /console/api for one app version, behind the same guard. */
export async function registerConsoleApiScope(server: FastifyInstance, app: ConsoleApp, host: ConsoleApps, options: ConsoleOptions): Promise<void> {
  await server.register(async (scope) => {
    guard(scope, options);
    registerConsoleApi(scope, app, host, options.env ?? process.env);
  });
}
