import type { AppContext } from "jit-runtime/element";
import { modelSchemas } from "./index.ts";
import { blocking, dropColumn, migrateModels, planMigration, previewDrop, type DropPreview, type Step } from "./migrations.ts";

/** What `jit migrate` does with an app's models (cli/commands/migrate.ts prints it). */

export interface Plan {
  database: string;
  steps: Step[];
  /** Unsafe steps that would stop `jit migrate` with these confirmations. */
  blocked: Step[];
}

export async function planModels(app: AppContext, confirm: readonly string[] = []): Promise<Plan> {
  const schemas = modelSchemas(app);
  const db = await app.getDatabase();
  if (schemas.length === 0) return { database: db.label, steps: [], blocked: [] };
  const { steps } = await planMigration(db, db, schemas);
  return { database: db.label, steps, blocked: blocking(steps, new Set(confirm)) };
}

export async function migrateAppModels(app: AppContext, confirm: readonly string[] = []): Promise<Step[]> {
  const schemas = modelSchemas(app);
  if (schemas.length === 0) return [];
  const { applied } = await migrateModels(await app.getDatabase(), schemas, { confirm });
  return applied;
}

export async function previewModelDrop(app: AppContext, target: string): Promise<DropPreview> {
  const db = await app.getDatabase();
  return previewDrop(db, db, modelSchemas(app), target);
}

export async function dropModelColumn(app: AppContext, target: string): Promise<DropPreview> {
  return dropColumn(await app.getDatabase(), modelSchemas(app), target);
}
