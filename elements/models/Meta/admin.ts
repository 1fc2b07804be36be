import type { AppContext } from "jit-runtime/element";
import { byDatabase, databaseOf, modelSchemas } from "./index.ts";
import { blocking, dropColumn, migrateModels, planMigration, previewDrop, unsafeError, type DropPreview, type Step } from "./migrations.ts";

/** What `jit migrate` does with an app's models (cli/commands/migrate.ts prints it), database by database. */

export interface Plan {
  database: string;
  steps: Step[];
  /** Unsafe steps that would stop `jit migrate` with these confirmations. */
  blocked: Step[];
}

/** One plan per database the app's models live in (the app's default database when none is named). */
export async function planModels(app: AppContext, confirm: readonly string[] = []): Promise<Plan[]> {
  const groups = byDatabase(modelSchemas(app));
  if (groups.size === 0) return [{ database: (await app.getDatabase()).label, steps: [], blocked: [] }];
  const plans: Plan[] = [];
  for (const [key, schemas] of groups) {
    const db = await databaseOf(app, key);
    const { steps } = await planMigration(db, db, schemas);
    plans.push({ database: db.label, steps, blocked: blocking(steps, new Set(confirm)) });
  }
  return plans;
}

/**
 * Applies every database's plan, or none when an unsafe step of any is not confirmed (every
 * problem is collected first; each database's plan is recomputed under its lock).
 */
export async function migrateAppModels(app: AppContext, confirm: readonly string[] = []): Promise<Step[]> {
  const plans = await planModels(app, confirm);
  const blocked = plans.flatMap((p) => p.blocked);
  if (blocked.length > 0) throw unsafeError(plans.filter((p) => p.blocked.length > 0).map((p) => p.database).join(", "), blocked);
  const applied: Step[] = [];
  for (const [key, schemas] of byDatabase(modelSchemas(app))) {
    applied.push(...(await migrateModels(await databaseOf(app, key), schemas, { confirm })).applied);
  }
  return applied;
}

function ownerOf(app: AppContext, target: string): { key: string; schemas: ReturnType<typeof modelSchemas> } {
  const model = target.slice(0, target.lastIndexOf("."));
  for (const [key, schemas] of byDatabase(modelSchemas(app))) if (schemas.some((s) => s.fullName === model)) return { key, schemas };
  return { key: "", schemas: modelSchemas(app) };
}

export async function previewModelDrop(app: AppContext, target: string): Promise<DropPreview> {
  const { key, schemas } = ownerOf(app, target);
  const db = await databaseOf(app, key);
  return previewDrop(db, db, schemas, target);
}

export async function dropModelColumn(app: AppContext, target: string): Promise<DropPreview> {
  const { key, schemas } = ownerOf(app, target);
  return dropColumn(await databaseOf(app, key), schemas, target);
}
