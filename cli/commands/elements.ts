import type { Command } from "commander";
import type { CliKit } from "../kit.ts";

/** Pads columns for a plain-text table. */
export function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, i) => Math.max(...rows.map((r) => r[i]!.length)));
  return rows.map((r) => r.map((cell, i) => (i === r.length - 1 ? cell : cell.padEnd(widths[i]!))).join("  ")).join("\n");
}

/** `jit elements [--json]`: every element the app sees, with its kind, type and layer. */
export function register(program: Command, kit: CliKit): void {
  program
    .command("elements")
    .description("list every element the app sees: fullName, kind, type, layer")
    .option("--json", "print JSON")
    .action((opts: { json?: boolean }) =>
      kit.run(async () => {
        const app = await kit.loadApp();
        const rows = app.listElements().map((d) => ({ fullName: d.fullName, kind: d.kind, type: d.type, layer: d.layer }));
        if (opts.json) return kit.printJson(rows);
        const lines = [["FULLNAME", "KIND", "TYPE", "LAYER"], ...rows.map((r) => [r.fullName, r.kind, r.type || "-", r.layer])];
        process.stdout.write(`${table(lines)}\n`);
      }),
    );
}
