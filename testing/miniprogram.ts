import { readFileSync } from "node:fs";
import path from "node:path";
import vm from "node:vm";

/**
 * Runs a WeChat mini program's logic in Node: its app.js and the pages listed in app.json,
 * as CommonJS in a `vm` context whose globals are what the mini program's runtime gives them
 * (`wx`, `App`, `Page`, `getApp`), with `wx` supplied by the caller (the client library's
 * createWxShim, say). Pages get `data` and a synchronous `setData`; no view is rendered, so
 * a test calls a page's handlers and reads `page.data`.
 */

export interface MiniProgramPage {
  readonly route: string;
  data: Record<string, unknown>;
  setData(patch: Record<string, unknown>): void;
  [handler: string]: unknown;
}

export interface LoadedMiniProgram {
  /** What app.js passed to App(). */
  app: Record<string, unknown>;
  /** The page registered by `pages/<...>.js`, e.g. page("pages/index/index"). */
  page(route: string): MiniProgramPage;
  routes: string[];
}

export interface LoadMiniProgramOptions {
  /** The mini program's root: the folder holding app.json (project.config.json's miniprogramRoot). */
  dir: string;
  /** The `wx` object the code sees. */
  wx: unknown;
  /** console of the mini program's code (default this process's). */
  console?: Console;
}

export function loadMiniProgram(options: LoadMiniProgramOptions): LoadedMiniProgram {
  const root = path.resolve(options.dir);
  const appJson = JSON.parse(readFileSync(path.join(root, "app.json"), "utf8")) as { pages?: unknown };
  if (!Array.isArray(appJson.pages) || !appJson.pages.every((p) => typeof p === "string")) {
    throw new Error(`${path.join(root, "app.json")}: "pages" must be an array of page paths`);
  }
  let app: Record<string, unknown> | undefined;
  const pages = new Map<string, MiniProgramPage>();
  let loadingRoute: string | null = null;

  const context = vm.createContext({
    wx: options.wx,
    console: options.console ?? console,
    setTimeout,
    clearTimeout,
    setInterval,
    clearInterval,
    App(definition: Record<string, unknown>) {
      app = definition;
    },
    getApp() {
      if (!app) throw new Error("getApp() before App() was called in app.js");
      return app;
    },
    Page(definition: Record<string, unknown>) {
      if (!loadingRoute) throw new Error("Page() called outside a page's own file");
      const route = loadingRoute;
      const page = { ...definition, route, data: structuredClone((definition.data as Record<string, unknown>) ?? {}) } as MiniProgramPage;
      page.setData = (patch) => Object.assign(page.data, patch);
      pages.set(route, page);
    },
  });

  const cache = new Map<string, { exports: unknown }>();
  function load(file: string): unknown {
    const cached = cache.get(file);
    if (cached) return cached.exports;
    const module = { exports: {} as unknown };
    cache.set(file, module);
    const source = readFileSync(file, "utf8");
    const wrapper = vm.runInContext(`(function (exports, require, module, __filename, __dirname) {\n${source}\n})`, context, { filename: file });
    const requireFrom = (spec: string) => {
      if (!spec.startsWith(".") && !spec.startsWith("/")) throw new Error(`${file}: require("${spec}"): a mini program requires files by relative path`);
      const target = path.resolve(path.dirname(file), spec);
      const resolved = target.endsWith(".js") ? target : `${target}.js`;
      if (!resolved.startsWith(root + path.sep)) throw new Error(`${file}: require("${spec}") leaves the mini program's folder`);
      return load(resolved);
    };
    (wrapper as (...args: unknown[]) => void)(module.exports, requireFrom, module, file, path.dirname(file));
    return module.exports;
  }

  load(path.join(root, "app.js"));
  for (const route of appJson.pages as string[]) {
    loadingRoute = route;
    try {
      load(path.join(root, `${route}.js`));
    } finally {
      loadingRoute = null;
    }
    if (!pages.has(route)) throw new Error(`${route}.js did not call Page()`);
  }
  if (!app) throw new Error(`${path.join(root, "app.js")} did not call App()`);
  return {
    app,
    routes: [...pages.keys()],
    page(route) {
      const page = pages.get(route);
      if (!page) throw new Error(`no page "${route}"; app.json lists ${[...pages.keys()].join(", ")}`);
      return page;
    },
  };
}
