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
  const apps: App[] = [];
  try {
    for (const { appId } of databases) apps.push(await load(appId));
  } catch (err) {
    await Promise.all(apps.map((app) => app.close()));
    await fake.close();
    throw err;
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

  const { serveApp } = await import("../../runtime/http/listen.ts");
  const { resolveAdminToken } = await import("../../runtime/http/console/adminToken.ts");
  const { sharedRateStore } = await import("./serve.ts");
  const adminToken = resolveAdminToken(process.env);
  const { loadedDatabases } = await import("../../runtime/app/appDatabases.ts");
  const loaded = loadedDatabases(apps);
  try {
    refuseSharedDatabases(loaded);
  } catch (err) {
    await Promise.all(apps.map((app) => app.close()));
    await fake.close();
    throw err;
  }
  const rateStore = await sharedRateStore(loaded, (appId) => serving.host.apps().find((a) => a.appId === appId)!);
  let closeWatcher = () => {};
  const serving = await serveApp({
    apps,
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
  }).catch(async (err: unknown) => {
    await fake.close();
    throw err;
  });

  const { Reloader } = await import("../../runtime/dev/reloader.ts");
  const { familiesPrepareStep } = await import("../../runtime/dev/prepareStep.ts");
  const reloader = new Reloader({
    apps,
    load,
    // What the families' start-up work did for the new version (a model's migration step applied, say).
    steps: [familiesPrepareStep((appId, line) => say(`app ${appId}: ${line}`))],
    replace: (app) => serving.replace(app),
    setStatus: (appId, status) => serving.host.setStatus(appId, status),
    report: (event: ReloadEvent) => {
      if (event.kind === "reloaded") {
        const app = reloader.current(event.appId);
        teach(app);
        say(`app ${event.appId} reloaded: version ${event.version} serves from the next request (${Math.round(event.ms)} ms)${event.fixed ? "; the problems are fixed" : ""}`);
        warn(app);
      } else {
        const n = event.problems.length;
        say(`app ${event.appId} NOT reloaded: ${n} problem${n === 1 ? "" : "s"}; version ${event.version} keeps serving until fixed`, problemLines(event.problems));
      }
    },
  });
  // Ids, not the first versions: nothing here may keep a replaced version alive.
  const ids = apps.map((a) => a.appId);
  const { affectedApps, watchRoot } = await import("../../runtime/dev/watcher.ts");
  const watcher = watchRoot({
    root,
    onChange: (files) => {
      const affected = affectedApps(
        files,
        ids.map((id) => reloader.current(id)),
      );
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
  // The first versions were handed over (server, reloader); this list, which serveApp's
  // options also hold, must not keep them alive once replaced.
  apps.length = 0;

  say(`fake WeChat server on ${fake.url} (mint a login code: POST ${fake.url}/__fake/codes {"appId":"…","openId":"…"})`);
  say(`${appsLabel(ids)} listening on ${serving.url} (POST ${serving.url}/api/${ids.length === 1 ? ids[0] : "<appId>"}/...)`);
  say(consoleLine(serving.url, adminToken.takeGenerated()).replace(/^jit serve: /, ""));
  say(`watching ${path.join(root, "apps")} and ${path.join(root, "elements")} for changes (Ctrl-C to stop)`);
  return serving.stopped;
}
