import type { Command } from "commander";
import type { CliKit } from "../kit.ts";

/** `jit validate`: loads everything; exit 0 with "ok: N elements", else exit 1 listing every problem. */
export function register(program: Command, kit: CliKit): void {
  program
    .command("validate")
    .description("validate every declaration, config file, schema and module of the app")
    .action(() =>
      kit.run(async () => {
        const app = await kit.loadApp();
        process.stdout.write(`ok: ${app.listElements().length} elements (app ${app.appId}, layers ${app.layers.join(" > ")})\n`);
      }),
    );
}
