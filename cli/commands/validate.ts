import type { Command } from "commander";
import { printError, type CliKit } from "../kit.ts";

/**
 * `jit validate`: loads the app (every app of the root, or those `--app a,b` names); exit 0
 * with "ok: N elements" per app and a line per warning, else exit 1 listing every problem.
 */
export function register(program: Command, kit: CliKit): void {
  program
    .command("validate")
    .description("validate every declaration, config file, schema and module of the app (of every app, without --app)")
    .action(() =>
      kit.run(async () => {
        const appIds = await kit.appIds();
        let failed = 0;
        for (const appId of appIds) {
          try {
            const app = await kit.loadApp({ appId });
            process.stdout.write(`ok: ${app.listElements().length} elements (app ${app.appId}, layers ${app.layers.join(" > ")})\n`);
            for (const warning of app.warnings) process.stdout.write(`${warning}\n`);
          } catch (err) {
            // One app's problems do not hide the others': each is checked and reported.
            if (appIds.length === 1) throw err;
            failed += 1;
            process.stderr.write(`app ${appId}:\n`);
            printError(err, kit.options().debug);
          }
        }
        return failed > 0 ? 1 : 0;
      }),
    );
}
