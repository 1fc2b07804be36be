import path from "node:path";
import type { Command } from "commander";
import type { App } from "../../runtime/app/App.ts";
import type { ReloadEvent } from "../../runtime/dev/reloader.ts";
import { parsePort, problemLine, type CliKit } from "../kit.ts";
import { appsLabel, consoleLine } from "./serve.ts";

/**
 * `jit dev`: the development loop in one command. The fake WeChat server (knowing every
 * served mini program's AppID and AppSecret), `jit serve --console` for every app of the root
 * (or those `--app a,b` names), and a watcher on `apps/` and `elements/`: a saved file reloads
 * the apps it affects in place (runtime/dev/reloader.ts), running the families' start-up work
 * first (a changed model's safe migration steps; an unsafe one keeps the last good version
 * serving). One line per event on stdout.
 */
export function register(program: Command, kit: CliKit): void {
  program
    .command("dev")
    .description("serve every app with the console and the fake WeChat server, and reload an app in place when its files change")
    .option("--port <port>", "port to listen on (0 = any free port; default $PORT or 8080)")
    .option("--host <host>", "address to listen on", "127.0.0.1")
    .option("--db <location>", "as for jit serve (repeatable; <appId>=<location> for one app)", (value: string, previous: string[]) => [...previous, value], [])
    .action((opts: DevFlags) => kit.run(() => dev(kit, opts)));
}

interface DevFlags {
  port?: string;
  host: string;
  db: string[];
}

const say = (line: string, more = "") => process.stdout.write(`jit dev: ${line}\n${more}`);

/** The problem lines under a report, indented; written with it in one write, so they arrive together. */
function problemLines(problems: ReadonlyArray<{ code: string; message: string; file?: string; pointer?: string }>): string {
  return problems.map((p) => `  ${problemLine({ ...p, pointer: p.pointer ?? "" } as never)}\n`).join("");
}

async function dev(kit: CliKit, opts: DevFlags): Promise<number> {
  const port = parsePort(opts.port ?? process.env.PORT ?? 8080, opts.port !== undefined ? "--port" : "PORT");
  const root = path.resolve(kit.options().root);
  const { appDatabases, refuseSharedDatabases } = await import("../../runtime/app/appDatabases.ts");
  const databases = appDatabases({ specs: opts.db, appIds: await kit.appIds(), root });
  refuseSharedDatabases(databases);

  const { startFakeWeChatServer } = await import("../../testing/index.ts");
  const { miniProgramsOf } = await import("../../testing/wechat/fakeApps.ts");
  const fake = await startFakeWeChatServer({ host: "127.0.0.1", port: 0 });
  // The apps call the fake unless the developer points them elsewhere.
  const env = { ...process.env, WECHAT_API_BASE: process.env.WECHAT_API_BASE || fake.url };
  const teach = (app: App) => {
    for (const { appId, appSecret } of miniProgramsOf(app)) fake.addApp(appId, appSecret);
  };

  const { loadApp } = await import("../../runtime/app/loadApp.ts");
  const { sqliteWriterFromEnv } = await import("../../runtime/database/sqlite/open.ts");
  const sqliteWriter = sqliteWriterFromEnv(process.env, "worker");
  const load = (appId: string) => {
    const dbFile = databases.find((d) => d.appId === appId)?.dbFile;
    return loadApp({ root, appId, env, sqliteWriter, reloadable: true, ...(dbFile ? { dbFile } : {}) });
  };
  const { Reloader, problemsOf } = await import("../../runtime/dev/reloader.ts");
  // An app that does not load at start is reported and watched like a broken reload: the
  // others are served meanwhile, and it is served once a saved file makes it load.
  const apps: App[] = [];
  const pending: Array<{ appId: string; problems: ReturnType<typeof problemsOf> }> = [];
  for (const { appId } of databases) {
    try {
      apps.push(await load(appId));
    } catch (err) {
      pending.push({ appId, problems: problemsOf(err) });
    }
  }
  const warned = new Map<string, string>();
  const warn = (app: App) => {
    const text = app.warnings.join("\n");
    if (text !== (warned.get(app.appId) ?? "")) for (const line of app.warnings) process.stdout.write(`${line}\n`);
    warned.set(app.appId, text);
  };
  for (const app of apps) {
    teach(app);
    warn(app);
  }
  for (const { appId, problems } of pending) {
    const n = problems.length;
    say(`app ${appId} NOT loaded: ${n} problem${n === 1 ? "" : "s"}; it is served once a saved file fixes ${n === 1 ? "it" : "them"}`, problemLines(problems));
  }

  const { serveApp } = await import("../../runtime/http/listen.ts");
  const { resolveAdminToken } = await import("../../runtime/http/console/adminToken.ts");
  const { sharedRateStore } = await import("./serve.ts");
  const adminToken = resolveAdminToken(process.env);
  const { loadedDatabases } = await import("../../runtime/app/appDatabases.ts");
  try {
    refuseSharedDatabases(loadedDatabases(apps));
  } catch (err) {
    await Promise.all(apps.map((app) => app.close()));
    await fake.close();
    throw err;
  }
  const ids = databases.map((d) => d.appId);
  let closeWatcher = () => {};
  let serving: Awaited<ReturnType<typeof serveApp>> | undefined;
  const startServing = async (first: App[]) => {
    const rateStore = await sharedRateStore(loadedDatabases(first), (appId) => serving!.host.apps().find((a) => a.appId === appId)!);
    serving = await serveApp({
      apps: first,
      port,
      host: opts.host,
      env,
      docs: true,
      console: { adminToken },
      ...(rateStore ? { rateStore } : {}),
      after: async () => {
        closeWatcher();
        await fake.close();
      },
    });
    // serveApp's options hold `first`; emptied, they keep no replaced version alive.
    const served = first.map((a) => a.appId);
    first.length = 0;
    say(`${appsLabel(served)} listening on ${serving.url} (POST ${serving.url}/api/${ids.length === 1 ? ids[0] : "<appId>"}/...)`);
    say(consoleLine(serving.url, adminToken.takeGenerated()).replace(/^jit serve: /, ""));
    return serving;
  };

  const { familiesPrepareStep } = await import("../../runtime/dev/prepareStep.ts");
  // Until a server runs (no app loaded at start), Ctrl-C stops the fake and the watcher here;
  // once one runs, its graceful shutdown does (and then the `after` above).
  let settle!: (code: number) => void;
  const stopped = new Promise<number>((resolve) => (settle = resolve));
  const stopEarly = () => {
    closeWatcher();
    void fake.close().then(() => settle(0));
  };
  say(`fake WeChat server on ${fake.url} (mint a login code: POST ${fake.url}/__fake/codes {"appId":"…","openId":"…"})`);
  if (apps.length > 0) {
    await startServing([...apps]).catch(async (err: unknown) => {
      await fake.close();
      throw err;
    });
    void serving!.stopped.then(settle);
  } else {
    process.once("SIGINT", stopEarly);
    process.once("SIGTERM", stopEarly);
  }

  const add = async (app: App) => {
    if (!serving) {
      // The server installs its own graceful shutdown once it listens.
      process.off("SIGINT", stopEarly);
      process.off("SIGTERM", stopEarly);
      try {
        await startServing([app]);
      } catch (err) {
        process.once("SIGINT", stopEarly);
        process.once("SIGTERM", stopEarly);
        throw err;
      }
      void serving!.stopped.then(settle);
      return;
    }
    refuseSharedDatabases(loadedDatabases([...serving.host.apps().map((a) => a as unknown as App), app]));
    await serving.add(app);
  };
  const reloader = new Reloader({
    apps,
    pending,
    load,
    // What the families' start-up work did for the new version (a model's migration step applied, say).
    steps: [familiesPrepareStep((appId, line) => say(`app ${appId}: ${line}`))],
    replace: (app) => serving!.replace(app),
    add,
    setStatus: (appId, status) => serving?.host.setStatus(appId, status),
    report: (event: ReloadEvent) => {
      if (event.kind === "reloaded") {
        const app = reloader.current(event.appId)!;
        teach(app);
        if (event.version === 1) say(`app ${event.appId} loaded: served from the next request (${Math.round(event.ms)} ms); the problems are fixed`);
        else say(`app ${event.appId} reloaded: version ${event.version} serves from the next request (${Math.round(event.ms)} ms)${event.fixed ? "; the problems are fixed" : ""}`);
        warn(app);
      } else {
        const n = event.problems.length;
        const keeps = event.version === 0 ? "it is served once fixed" : `version ${event.version} keeps serving until fixed`;
        say(`app ${event.appId} NOT ${event.version === 0 ? "loaded" : "reloaded"}: ${n} problem${n === 1 ? "" : "s"}; ${keeps}`, problemLines(event.problems));
      }
    },
  });
  const { affectedApps, watchRoot } = await import("../../runtime/dev/watcher.ts");
  const watcher = watchRoot({
    root,
    onChange: (files) => {
      // An app that never loaded has no known lookup order (its app.json may be the broken
      // file): any saved file may be the fix.
      const known = ids.flatMap((id) => {
        const app = reloader.current(id);
        return app ? [app] : [];
      });
      const unloaded = ids.filter((id) => !reloader.current(id));
      const hit = new Set([...affectedApps(files, known), ...(files.some((f) => /^(apps|elements)[\\/]/.test(f)) ? unloaded : [])]);
      const affected = ids.filter((id) => hit.has(id));
      // An editor's temporary files (gone by now, or no file a load reads) are not named; the
      // reload still runs, as the save may have been a rename of one onto a watched file.
      const named = files.filter((f) => /\.(json|ts|mts|js|mjs)$/.test(f));
      const list = named.length > 0 ? named : files;
      const shown = list.length > 3 ? `${list.slice(0, 3).join(", ")} and ${list.length - 3} more` : list.join(", ");
      if (affected.length === 0) {
        say(`${shown} changed: no served app reads it`);
        return;
      }
      say(`${shown} changed: reloading ${appsLabel(affected)}`);
      for (const appId of affected) void reloader.reload(appId);
    },
  });
  closeWatcher = () => watcher.close();
  // The first versions were handed over (server, reloader); this list must not keep them
  // alive once replaced.
  apps.length = 0;

  say(`watching ${path.join(root, "apps")} and ${path.join(root, "elements")} for changes (Ctrl-C to stop)`);
  return stopped;
}
