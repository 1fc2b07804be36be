import { writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { typesFile } from "../typesFile.ts";
import type { CliKit } from "../kit.ts";

export const TYPES_FILE = "jit-types.d.ts";

/** `jit types`: writes the declaration file that types `app.getElement` by fullName (typesFile.ts). */
export function register(program: Command, kit: CliKit): void {
  program
    .command("types")
    .description(`write ${TYPES_FILE}: app.getElement("models.OrderModel") typed by fullName, with row types from the model's fields`)
    .option("--out <file>", `where to write it (default: ${TYPES_FILE} in the root)`)
    .action((opts: { out?: string }) =>
      kit.run(async () => {
        const app = await kit.loadApp();
        const file = path.resolve(kit.options().root, opts.out ?? TYPES_FILE);
        await writeFile(file, typesFile(app));
        process.stdout.write(`wrote ${path.relative(process.cwd(), file) || file} (app ${app.appId}); rerun after changing a model or adding an element\n`);
      }),
    );
}
