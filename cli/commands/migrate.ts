import type { Command } from "commander";
import { dropModelColumn, migrateAppModels, planModels, previewModelDrop } from "../../elements/models/Meta/admin.ts";
import { unsafeError, type Step } from "../../elements/models/Meta/migrations.ts";
import type { CliKit } from "../kit.ts";

interface MigrateOptions {
  db?: string;
  plan?: boolean;
  confirm?: string[];
  drop?: string;
  yes?: boolean;
}

function line(step: Step, confirmed: ReadonlySet<string>): string {
  const mark = step.safe ? "safe    " : step.confirmable && confirmed.has(step.id) ? "confirmed" : "UNSAFE  ";
  const why = step.safe ? "" : `\n           ${step.reason}${step.confirmable ? (confirmed.has(step.id) ? "" : `\n           confirm with: jit migrate --confirm ${step.id}`) : ""}`;
  return `  ${mark} ${step.summary}${why}`;
}

/**
 * `jit migrate`: brings the tables of the app's models up to their declarations. `--plan`
 * prints every step, safe or unsafe, and changes nothing; without it the safe steps (and
 * the unsafe ones named by --confirm) run in one transaction, or nothing runs when an
 * unsafe step is not confirmed. `--drop model.field` deletes a column no field declares
 * any more, after showing what it holds (and only with --yes).
 */
export function register(program: Command, kit: CliKit): void {
  program
    .command("migrate")
    .description("bring the tables of the app's models up to their declarations (--plan: show the steps only)")
    .option("--db <file|url>", "SQLite file or postgres:// URL (else JIT_DB, else DATABASE_URL, else <root>/.jit/<appId>.sqlite)")
    .option("--plan", "print every step, marked safe or unsafe, and change nothing")
    .option("--confirm <step...>", "apply these unsafe steps too (the ids --plan prints, e.g. models.OrderModel.qty)")
    .option("--drop <model.field>", "delete the kept column of a field no longer declared, e.g. models.OrderModel.note (shows what it holds; needs --yes)")
    .option("--yes", "with --drop: delete it")
    .action((opts: MigrateOptions) =>
      kit.run(async () => {
        const app = await kit.loadApp({ dbFile: opts.db });
        const confirm = opts.confirm ?? [];
        const confirmed = new Set(confirm);
        const out = (text: string) => process.stdout.write(`${text}\n`);
        if (opts.drop !== undefined) {
          const preview = await previewModelDrop(app, opts.drop);
          if (!opts.yes) {
            out(`--drop ${opts.drop} would delete column ${preview.column} of ${preview.model}: ${preview.values} row(s) hold a value there.`);
            out(`Nothing was changed. Rerun with --yes to delete it.`);
            return 1;
          }
          const done = await dropModelColumn(app, opts.drop);
          out(`dropped column ${done.column} of ${done.model} (${done.values} value(s) deleted)`);
          return 0;
        }
        const plans = await planModels(app, confirm);
        if (opts.plan) {
          for (const plan of plans) {
            out(`database ${plan.database}: ${plan.steps.length === 0 ? "every model is up to date" : `${plan.steps.length} step(s)`}`);
            for (const step of plan.steps) out(line(step, confirmed));
          }
          const blocked = plans.flatMap((p) => p.blocked);
          if (blocked.length > 0) out(`${blocked.length} unsafe step(s): jit migrate refuses to run until each is confirmed or the declaration changed; nothing runs before that.`);
          return 0;
        }
        const blocked = plans.flatMap((p) => p.blocked);
        if (blocked.length > 0) throw unsafeError(plans.filter((p) => p.blocked.length > 0).map((p) => p.database).join(", "), blocked);
        const applied = await migrateAppModels(app, confirm);
        const where = plans.map((p) => p.database).join(", ");
        out(applied.length === 0 ? `database ${where}: every model is up to date` : `database ${where}: applied ${applied.length} step(s)`);
        for (const step of applied) out(line(step, confirmed));
        return 0;
      }),
    );
}
