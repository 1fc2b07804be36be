import type { Command } from "commander";
import { parsePort, usageError, type CliKit } from "../kit.ts";
import type { FakeApp } from "../../testing/index.ts";
import { miniProgramsOf } from "../../testing/wechat/fakeApps.ts";


interface FakeOptions {
  port?: string;
  appId: string[];
  appSecret: string[];
}

function collect(value: string, previous: string[]): string[] {
  return [...previous, value];
}

/**
 * `jit wechat-fake`: runs the fake WeChat server on 127.0.0.1 for development. It knows the
 * AppID/AppSecret of every WeChatMiniType instance of the app (when --root holds one) plus
 * the --app-id/--app-secret pairs given. Prints how to use it, never a secret.
 */
export function register(program: Command, kit: CliKit): void {
  program
    .command("wechat-fake")
    .description("run the fake WeChat server on 127.0.0.1 and print how to mint login codes")
    .option("--port <n>", "port (default: a free one)")
    .option("--app-id <id>", "a mini program AppID the fake accepts (repeatable, pairs with --app-secret)", collect, [])
    .option("--app-secret <secret>", "the AppSecret for the --app-id at the same position", collect, [])
    .action((opts: FakeOptions) => kit.run(() => serveFake(kit, opts)));
}

async function serveFake(kit: CliKit, opts: FakeOptions): Promise<void> {
    if (opts.appId.length !== opts.appSecret.length) throw usageError("give one --app-secret for each --app-id");
    const port = opts.port === undefined ? 0 : parsePort(opts.port, "--port");
    const apps: FakeApp[] = [...(await appsOfRoot(kit)), ...opts.appId.map((appId, i) => ({ appId, appSecret: opts.appSecret[i]! }))];
    // The package's testing entry, loaded on use so other jit commands do not pay for it.
    const { startFakeWeChatServer } = await import("../../testing/index.ts");
    const fake = await startFakeWeChatServer({ host: "127.0.0.1", port, apps });
    const exampleAppId = apps[0]?.appId ?? "wx0000000000000000";
    const lines = [
      `fake WeChat server listening on ${fake.url}`,
      `mini programs: ${apps.length > 0 ? apps.map((a) => a.appId).join(", ") : "(none: add --app-id ID --app-secret S)"}`,
      "point the app at it:",
      `  WECHAT_API_BASE=${fake.url}`,
      "mint a wx.login code for a test user:",
      `  curl -s -X POST ${fake.url}/__fake/codes -H 'content-type: application/json' -d '${JSON.stringify({ appId: exampleAppId, openId: "test-user-1" })}'`,
      "mint a phone-button code (for getPhoneNumber, registerByPhone):",
      `  curl -s -X POST ${fake.url}/__fake/phone-codes -H 'content-type: application/json' -d '${JSON.stringify({ appId: exampleAppId, purePhoneNumber: "13800138000" })}'`,
      "stop with Ctrl-C",
    ];
    process.stdout.write(`${lines.join("\n")}\n`);
    await new Promise<void>((resolve) => {
      process.once("SIGINT", resolve);
      process.once("SIGTERM", resolve);
    });
    await fake.close();
}

/** AppID/AppSecret of the WeChatMiniType instances of every app (or those --app names); none when --root holds no app. */
async function appsOfRoot(kit: CliKit): Promise<FakeApp[]> {
  const found: FakeApp[] = [];
  let appIds: string[];
  try {
    appIds = await kit.appIds();
  } catch {
    return found; // no apps folder: serve the --app-id pairs only
  }
  for (const appId of appIds) {
    let app: Awaited<ReturnType<CliKit["loadApp"]>> | undefined;
    try {
      app = await kit.loadApp({ appId });
      found.push(...miniProgramsOf(app));
    } catch (err) {
      // Still serve (apps can be given with --app-id), but say why this app's were skipped.
      const what = err instanceof Error && "code" in err ? `${String((err as { code: unknown }).code)}: ${err.message}` : "could not load the app";
      process.stderr.write(`wechat-fake: not serving app ${appId}'s mini programs (${what}); run jit validate for details\n`);
    } finally {
      await app?.close().catch(() => undefined);
    }
  }
  return found;
}
