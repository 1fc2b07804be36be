import { StoreError } from "../errors/index.ts";
import type { Dialect, Migration, MigrateOptions, MigrationReport, Transaction } from "./types.ts";
import { migrationCrashPoint } from "./crashPoints.ts";

/**
 * The migration runner both dialects share: one ledger table, `jit_migrations`, holds a row
 * per (owner, version) applied. An owner is whoever keeps tables on the database (a family,
 * later an app's model); owners never see each other's versions. The dialects differ only
 * in how they lock and begin (SqliteDatabase, PostgresDatabase); the steps are here.
 */

export const LEDGER = "jit_migrations";

export function ledgerDdl(dialect: Dialect): string {
  const time = dialect === "postgres" ? "bigint" : "INTEGER";
  return `CREATE TABLE IF NOT EXISTS ${LEDGER} (
    owner      text    NOT NULL,
    version    integer NOT NULL,
    name       text    NOT NULL,
    applied_at ${time} NOT NULL,
    PRIMARY KEY (owner, version)
  )`;
}

/** The owner's versions sorted; a list with a repeated or non-positive version is a programming error. */
export function checkedMigrations(owner: string, migrations: readonly Migration[]): Migration[] {
  if (!/^[A-Za-z][\w.-]{0,99}$/.test(owner)) throw new TypeError(`migration owner must be a name like a family's, e.g. "models", got ${JSON.stringify(owner)}`);
  const sorted = [...migrations].sort((a, b) => a.version - b.version);
  sorted.forEach((m, i) => {
    if (!Number.isInteger(m.version) || m.version < 1 || (i > 0 && sorted[i - 1]!.version === m.version)) {
      throw new TypeError(`migrations of ${owner}: version ${m.version} is not a positive integer used once`);
    }
  });
  return sorted;
}

export function latestOf(migrations: readonly Migration[]): number {
  return migrations.reduce((max, m) => Math.max(max, m.version), 0);
}

export function tooNew(label: string, owner: string, found: number, latest: number): InstanceType<typeof StoreError> {
  return new StoreError("STORE_MIGRATION_FAILED", {
    file: label,
    version: found,
    reason: `${owner}'s schema is at version ${found}, newer than this runtime knows (${latest}); use a newer runtime or another database`,
  });
}

/** The owner's applied version, read from the ledger (0: none). */
export async function ledgerVersion(tx: Transaction, owner: string): Promise<number> {
  const row = await tx.get<{ version: number | null }>(`SELECT max(version) AS version FROM ${LEDGER} WHERE owner = ?`, [owner]);
  return Number(row?.version ?? 0);
}

/**
 * The steps inside the owner's one transaction, the lock already held: ledger, adoption of
 * a schema that predates it, the check against a newer database, each pending migration
 * with its ledger row. A failure throws STORE_MIGRATION_FAILED naming the version; the
 * caller rolls the whole transaction back, so the owner stays at its version before.
 */
export async function applyPending(
  tx: Transaction,
  /** Runs a script of several statements (no parameters). */
  exec: (sql: string) => Promise<void>,
  dialect: Dialect,
  label: string,
  owner: string,
  migrations: Migration[],
  options: MigrateOptions,
  now: number,
): Promise<MigrationReport> {
  const latest = latestOf(migrations);
  await exec(ledgerDdl(dialect));
  let current = await ledgerVersion(tx, owner);
  if (current === 0 && options.adopt) {
    const adopted = await options.adopt(tx);
    if (adopted > latest) throw tooNew(label, owner, adopted, latest);
    for (const m of migrations) {
      if (m.version > adopted) break;
      await tx.run(`INSERT INTO ${LEDGER} (owner, version, name, applied_at) VALUES (?, ?, ?, ?)`, [owner, m.version, `${m.name} (adopted)`, now]);
    }
    current = adopted;
  }
  if (current > latest) throw tooNew(label, owner, current, latest);
  const applied: number[] = [];
  for (const m of migrations) {
    if (m.version <= current) continue;
    try {
      if (m.sql) await exec(m.sql);
      if (m.up) await m.up(tx);
      await tx.run(`INSERT INTO ${LEDGER} (owner, version, name, applied_at) VALUES (?, ?, ?, ?)`, [owner, m.version, m.name, now]);
    } catch (err) {
      if (err instanceof StoreError) throw err;
      throw new StoreError("STORE_MIGRATION_FAILED", { file: label, version: m.version, reason: `${owner} ${m.name}: ${err instanceof Error ? err.message : String(err)}` });
    }
    applied.push(m.version);
    migrationCrashPoint(applied.length);
  }
  return { owner, from: current, to: Math.max(current, latest), applied };
}
