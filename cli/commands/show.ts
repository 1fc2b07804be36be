import type { Command } from "commander";
import type { CliKit } from "../kit.ts";
import { elementView } from "../../runtime/app/elementView.ts";

/**
 * `jit show <fullName> [--json]`: the resolved chain in order (like a Python MRO) with the
 * layer of each link, the definitions it overrides, its functions, and the effective
 * config with secrets masked.
 */
export function register(program: Command, kit: CliKit): void {
  program
    .command("show")
    .description("show an element: resolved chain with layers, shadows, functions, effective config (secrets masked)")
    .argument("<fullName>", "element fullName, e.g. auths.loginTypes.myWeChatMiniLogin")
    .option("--json", "print JSON")
    .action((fullName: string, opts: { json?: boolean }) =>
      kit.run(async () => {
        const app = await kit.loadApp();
        const d = app.getElementDefine(fullName);
        const view = elementView(d, app.getMaskedConfig(fullName));
        if (opts.json) return kit.printJson(view);
        const out: string[] = [
          `${d.fullName} (${d.kind}${d.type ? ` of ${d.type}` : ""}) from layer ${d.layer}`,
          `  title: ${d.title}`,
          `  access: ${d.accessModifier}`,
          `  file: ${d.file}`,
          "chain:",
          ...d.chain.map((c, i) => `  ${i + 1}. ${c.fullName} [${c.layer}] ${c.file}`),
          "shadows:",
          ...(d.shadows.length ? d.shadows.map((c) => `  - ${c.fullName} [${c.layer}] ${c.file}`) : ["  (none)"]),
          "functions:",
          ...(d.functionList.length
            ? d.functionList.map((f) => `  ${f.name}(${f.args.map((a) => `${a.name}: ${a.dataType}`).join(", ")})${f.loginRequired ? "" : " [no login]"}`)
            : ["  (none)"]),
          "config:",
          ...JSON.stringify(view.config, null, 2).split("\n").map((l) => `  ${l}`),
        ];
        process.stdout.write(`${out.join("\n")}\n`);
      }),
    );
}
