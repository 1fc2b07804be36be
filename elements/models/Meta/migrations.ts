import type { Database, Queryable, Transaction } from "jit-runtime/element";
import { ModelError } from "./errors.ts";
import { columnDef, createIndex, createTable, dropIndex, indexesOf, type IndexSpec } from "./ddl.ts";
import { maxLengthOf, type FieldDecl } from "./fields.ts";
import { quoteId } from "./query.ts";
import type { ModelSchema } from "./schema.ts";

/**
 * Tables follow the declarations, and never lose data. The family keeps what it last
 * applied of each model in `jit_models` (fields, unions, and the columns of removed fields,
 * which stay until `jit migrate --drop`). A plan is the difference between that record and
 * the declarations, read with the data it would touch (rows that would not fit, duplicates).
 * Every step of every model is planned before the first statement runs; one unsafe step
 * not confirmed stops them all. The plan is applied in one transaction, under a lock, and
 * recomputed inside it: two processes starting at once migrate once, and a kill -9 leaves
 * the old schema or the new.
 */

export const LEDGER = "jit_models";
const LOCK = "models.migrate";

export interface Step {
  /** What `--confirm` names: `models.OrderModel.qty` (a field) or `models.OrderModel` (the table). */
  id: string;
  model: string;
  kind: "createTable" | "addColumn" | "renameColumn" | "changeType" | "addIndex" | "dropIndex" | "keepColumn" | "narrowMaxLength" | "requireField" | "restoreColumn" | "record";
  safe: boolean;
  summary: string;
  /** Unsafe steps: why, and whether `--confirm <id>` may apply it. */
  reason?: string;
  confirmable?: boolean;
  sql: string[];
}

interface Recorded {
  fields: FieldDecl[];
  unionUniqueList: string[][];
  /** Columns of removed fields, kept with their data. */
  kept: Array<{ name: string; dataType: string }>;
}

interface LedgerRow {
  model: string;
  state: string;
}

function stateOf(schema: ModelSchema, kept: Recorded["kept"]): Recorded {
  // Titles are not schema: a retitled field is no step.
  return { fields: schema.fields.map(stripTitle), unionUniqueList: schema.unionUniqueList, kept };
}

async function ensureLedger(db: Queryable): Promise<void> {
  await db.run(`CREATE TABLE IF NOT EXISTS ${LEDGER} (model TEXT PRIMARY KEY, state TEXT NOT NULL, updated_at BIGINT NOT NULL)`);
}

async function readLedger(db: Queryable): Promise<Map<string, Recorded>> {
  const rows = await db.all<LedgerRow>(`SELECT model, state FROM ${LEDGER}`);
  return new Map(rows.map((r) => [r.model, JSON.parse(r.state) as Recorded]));
}

/** The options of a field that mean something (false and absent are the same), in one key order. */
function canonical(field: FieldDecl | undefined): string {
  if (!field) return "";
  const entries = Object.entries(field).filter(([, v]) => v !== undefined && v !== false).sort(([a], [b]) => (a < b ? -1 : 1));
  return JSON.stringify(entries);
}
const sameField = (a: FieldDecl | undefined, b: FieldDecl | undefined) => canonical(a) === canonical(b);
const unionKey = (list: string[]) => list.join("\u0000");

async function countRows(db: Queryable, table: string, where = ""): Promise<number> {
  const row = await db.get<{ n: number | string }>(`SELECT count(*) AS n FROM ${quoteId(table)}${where ? ` WHERE ${where}` : ""}`);
  return Number(row?.n ?? 0);
}

async function duplicateGroups(db: Queryable, table: string, columns: string[]): Promise<number> {
  const cols = columns.map(quoteId).join(", ");
  const notNull = columns.map((c) => `${quoteId(c)} IS NOT NULL`).join(" AND ");
  const row = await db.get<{ n: number | string }>(`SELECT count(*) AS n FROM (SELECT 1 FROM ${quoteId(table)} WHERE ${notNull} GROUP BY ${cols} HAVING count(*) > 1) d`);
  return Number(row?.n ?? 0);
}

async function tooLong(db: Queryable, dialect: string, table: string, column: string, max: number): Promise<number> {
  const len = dialect === "postgres" ? `char_length(${quoteId(column)})` : `length(${quoteId(column)})`;
  return countRows(db, table, `${len} > ${Math.trunc(max)}`);
}

/** Every step that brings the database to the declarations, each marked safe or unsafe. */
export async function planMigration(db: Database, q: Queryable, schemas: ModelSchema[]): Promise<{ steps: Step[]; states: Map<string, Recorded> }> {
  const dialect = db.dialect;
  await ensureLedger(q);
  const ledger = await readLedger(q);
  const steps: Step[] = [];
  const states = new Map<string, Recorded>();
  for (const schema of schemas) {
    const table = schema.table;
    const before = ledger.get(schema.fullName);
    const indexes = indexesOf(schema);
    if (!before) {
      steps.push({ id: schema.fullName, model: schema.fullName, kind: "createTable", safe: true, summary: `create table ${table} (${schema.fields.length} fields)`, sql: [createTable(schema, dialect)] });
      for (const index of indexes) steps.push(indexStep(schema, index));
      states.set(schema.fullName, stateOf(schema, []));
      continue;
    }
    const rows = await countRows(q, table);
    const prev = new Map(before.fields.map((f) => [f.name, f]));
    let kept = [...before.kept];
    const own: Step[] = [];
    const declaredNames = new Set(schema.fields.map((f) => f.name));
    const renamedAway = new Set<string>();
    /** Fields whose indexes were dropped with their column (a changed data type): made again below. */
    const rebuilt = new Set<string>();
    for (const field of schema.fields) {
      const id = `${schema.fullName}.${field.name}`;
      let old = prev.get(field.name);
      if (!old && field.renamedFrom && prev.has(field.renamedFrom) && !declaredNames.has(field.renamedFrom)) {
        old = prev.get(field.renamedFrom)!;
        renamedAway.add(old.name);
        own.push({ id, model: schema.fullName, kind: "renameColumn", safe: true, summary: `rename column ${old.name} to ${field.name} in ${table} (data kept)`, sql: [`ALTER TABLE ${quoteId(table)} RENAME COLUMN ${quoteId(old.name)} TO ${quoteId(field.name)}`] });
        for (const index of indexesOf({ table, fields: [old], unionUniqueList: [] })) own.push({ ...indexStep(schema, index), kind: "dropIndex", summary: `drop index ${index.name} (renamed column)`, sql: [dropIndex(index)] });
        // Its indexes were dropped with the old name: the declared ones are made below.
        old = { ...old, name: field.name, unique: false, dbIndex: false };
        rebuilt.add(field.name);
      }
      if (!old) {
        const keptColumn = kept.find((k) => k.name === field.name);
        if (keptColumn) {
          const same = keptColumn.dataType === field.dataType;
          own.push({
            id, model: schema.fullName, kind: "restoreColumn", safe: same,
            summary: `field ${field.name} comes back: its kept column in ${table} and its data are used again`,
            ...(same ? {} : { reason: `its kept column holds ${keptColumn.dataType} values, not ${field.dataType}; drop it first with jit migrate --drop ${id}`, confirmable: false }),
            sql: [],
          });
          kept = kept.filter((k) => k.name !== field.name);
          continue;
        }
        const needsValue = field.required && (field.default === undefined || field.default === null) && rows > 0;
        own.push({
          id, model: schema.fullName, kind: "addColumn", safe: !needsValue,
          summary: `add column ${field.name} ${field.dataType} to ${table}${field.default !== undefined && field.default !== null ? ` (existing rows get the default ${JSON.stringify(field.default)})` : ""}`,
          ...(needsValue ? { reason: `required with no default, and ${rows} existing row(s) would have no value (confirm to keep them without one, or declare a default)`, confirmable: true } : {}),
          sql: [`ALTER TABLE ${quoteId(table)} ADD COLUMN ${columnDef(field, dialect)}`],
        });
        continue;
      }
      if (old.primaryKey !== field.primaryKey || (field.primaryKey && old.dataType !== field.dataType)) {
        own.push({ id, model: schema.fullName, kind: "changeType", safe: false, summary: `change the primary key of ${table}`, reason: "a model's primary key cannot change in place (declare a new model and copy the rows)", confirmable: false, sql: [] });
        continue;
      }
      if (old.dataType !== field.dataType) {
        const aside = `${field.name}__was${old.dataType}`;
        own.push({
          id, model: schema.fullName, kind: "changeType", safe: false,
          summary: `change ${field.name} from ${old.dataType} to ${field.dataType}: the old column is kept as ${aside} (its data stay; drop it with jit migrate --drop ${schema.fullName}.${aside}) and a new column starts empty${field.default !== undefined && field.default !== null ? " (the default)" : ""}`,
          reason: `changes the data type of ${rows} existing row(s)`,
          confirmable: true,
          sql: [
            ...indexesOf({ table, fields: [old], unionUniqueList: [] }).map(dropIndex),
            `ALTER TABLE ${quoteId(table)} RENAME COLUMN ${quoteId(field.name)} TO ${quoteId(aside)}`,
            `ALTER TABLE ${quoteId(table)} ADD COLUMN ${columnDef(field, dialect)}`,
          ],
        });
        kept.push({ name: aside, dataType: old.dataType });
        rebuilt.add(field.name);
        continue;
      }
      const oldMax = maxLengthOf(old);
      const newMax = maxLengthOf(field);
      if (oldMax !== undefined && newMax !== undefined && newMax < oldMax) {
        const over = await tooLong(q, dialect, table, field.name, newMax);
        own.push({
          id, model: schema.fullName, kind: "narrowMaxLength", safe: over === 0,
          summary: `narrow maxLength of ${field.name} from ${oldMax} to ${newMax}`,
          ...(over > 0 ? { reason: `${over} existing row(s) are longer than ${newMax} (confirm to keep them as they are; writes must fit)`, confirmable: true } : {}),
          sql: [],
        });
      }
      if (field.required && !old.required) {
        const empty = await countRows(q, table, `${quoteId(field.name)} IS NULL`);
        own.push({
          id, model: schema.fullName, kind: "requireField", safe: empty === 0,
          summary: `make ${field.name} required`,
          ...(empty > 0 ? { reason: `${empty} existing row(s) have no value (confirm to keep them so)`, confirmable: true } : {}),
          sql: [],
        });
      }
      if (!sameField(stripTitle({ ...old, name: field.name }), stripTitle(field)) && own.every((s) => s.id !== id || s.kind === "renameColumn")) {
        own.push({ id, model: schema.fullName, kind: "record", safe: true, summary: `record the new options of ${field.name} (no change to the table)`, sql: [] });
      }
    }
    for (const old of before.fields) {
      if (declaredNames.has(old.name) || renamedAway.has(old.name)) continue;
      const id = `${schema.fullName}.${old.name}`;
      own.push({
        id, model: schema.fullName, kind: "keepColumn", safe: true,
        summary: `field ${old.name} is no longer declared: its column and data stay in ${table} (jit migrate --drop ${id} deletes them)`,
        sql: indexesOf({ table, fields: [old], unionUniqueList: [] }).map(dropIndex),
      });
      kept.push({ name: old.name, dataType: old.dataType });
    }
    // Indexes: the declared set against the recorded one (a renamed column's were dropped above).
    const was = new Map(indexesOf({ table, fields: before.fields, unionUniqueList: before.unionUniqueList }).map((i) => [i.name, i]));
    const now = new Map(indexes.map((i) => [i.name, i]));
    for (const [name, index] of was) if (!now.has(name) && index.columns.every((c) => declaredNames.has(c))) own.push({ ...indexStep(schema, index), kind: "dropIndex", summary: `drop index ${name}`, sql: [dropIndex(index)] });
    for (const [name, index] of now) {
      if (was.has(name) && !index.columns.some((c) => rebuilt.has(c))) continue;
      if (index.unique && rows > 0) {
        const dups = await duplicateGroups(q, table, index.columns);
        if (dups > 0) {
          own.push({ ...indexStep(schema, index), safe: false, reason: `${dups} value(s) of ${index.columns.join(", ")} are on more than one row: remove the duplicates, then migrate`, confirmable: false });
          continue;
        }
      }
      own.push(indexStep(schema, index));
    }
    if (JSON.stringify(before.unionUniqueList) !== JSON.stringify(schema.unionUniqueList) && own.length === 0) {
      own.push({ id: schema.fullName, model: schema.fullName, kind: "record", safe: true, summary: "record the new unionUniqueList", sql: [] });
    }
    steps.push(...own);
    states.set(schema.fullName, stateOf(schema, kept));
  }
  return { steps, states };
}

/** What a field is to the table: not its title, nor the name it was renamed from. */
function stripTitle(field: FieldDecl): FieldDecl {
  const { title: _title, renamedFrom: _from, ...rest } = field;
  return rest;
}

function indexStep(schema: ModelSchema, index: IndexSpec): Step {
  const id = index.columns.length === 1 ? `${schema.fullName}.${index.columns[0]}` : schema.fullName;
  return { id, model: schema.fullName, kind: "addIndex", safe: true, summary: `add ${index.unique ? "unique " : ""}index ${index.name} on ${index.columns.join(", ")}`, sql: [createIndex(schema.table, index)] };
}

/** Unsafe steps the confirmations do not cover: what stops a migration. */
export function blocking(steps: Step[], confirmed: ReadonlySet<string>): Step[] {
  return steps.filter((s) => !s.safe && !(s.confirmable && confirmed.has(s.id)));
}

export function unsafeError(label: string, blocked: Step[]): InstanceType<typeof ModelError> {
  const steps = blocked
    .map((s) => `${s.id}: ${s.summary} — ${s.reason}${s.confirmable ? ` (confirm with: jit migrate --confirm ${s.id})` : ""}`)
    .join("; ");
  return new ModelError("MIGRATION_UNSAFE", { file: label, count: blocked.length, steps });
}

/**
 * Test-only crash point, as the database handle's (runtime/database/crashPoints.ts): with
 * NODE_ENV=test and JIT_TEST_CRASH_AT=modelsMigrate:<n> the process kills itself just before
 * the n-th statement of a migration, or with :end after the last one, before the COMMIT.
 * Read once when the module loads; an environment variable alone never arms it.
 */
const CRASH_AT = (() => {
  if (process.env.NODE_ENV !== "test") return null;
  const match = /^modelsMigrate:(\d+|end)$/.exec(process.env.JIT_TEST_CRASH_AT?.trim() ?? "");
  return match ? (match[1] === "end" ? "end" : Number(match[1])) : null;
})();

function crashPoint(at: number | "end"): void {
  if (CRASH_AT !== null && CRASH_AT === at) process.kill(process.pid, "SIGKILL");
}

export interface MigrateResult {
  applied: Step[];
}

/**
 * Applies the plan: every safe step and the confirmed unsafe ones, in one transaction under
 * the migration lock, or nothing at all when an unsafe step is not confirmed.
 */
export async function migrateModels(db: Database, schemas: ModelSchema[], options: { confirm?: readonly string[]; now?: number } = {}): Promise<MigrateResult> {
  const confirmed = new Set(options.confirm ?? []);
  return underLock(db, (tx) => applyPlan(db, tx, schemas, confirmed, options.now ?? Date.now()));
}

/**
 * `work` in one transaction that holds the migration lock. On SQLite the handle's lock is the
 * write lock of a transaction (withLock is a transaction), so the transaction alone is it;
 * on PostgreSQL an advisory lock is taken first, around the transaction.
 */
function underLock<T>(db: Database, work: (tx: Transaction) => Promise<T>): Promise<T> {
  return db.dialect === "sqlite" ? db.transaction(work) : db.withLock(LOCK, () => db.transaction(work));
}

async function applyPlan(db: Database, tx: Transaction, schemas: ModelSchema[], confirmed: ReadonlySet<string>, now: number): Promise<MigrateResult> {
  const { steps, states } = await planMigration(db, tx, schemas);
  const blocked = blocking(steps, confirmed);
  if (blocked.length > 0) throw unsafeError(db.label, blocked);
  let statement = 0;
  for (const step of steps) {
    for (const sql of step.sql) {
      crashPoint(++statement);
      await tx.run(sql);
    }
  }
  for (const [model, state] of states) {
    const text = JSON.stringify(state);
    const changed = await tx.run(`UPDATE ${LEDGER} SET state = ?, updated_at = ? WHERE model = ?`, [text, now, model]);
    if (changed.changes === 0) await tx.run(`INSERT INTO ${LEDGER} (model, state, updated_at) VALUES (?, ?, ?)`, [model, text, now]);
  }
  crashPoint("end");
  return { applied: steps };
}

async function ledgerExists(db: Database, q: Queryable): Promise<boolean> {
  const found = db.dialect === "postgres"
    ? await q.get(`SELECT 1 AS x FROM information_schema.tables WHERE table_name = ? AND table_schema = current_schema()`, [LEDGER])
    : await q.get(`SELECT 1 AS x FROM sqlite_master WHERE type = 'table' AND name = ?`, [LEDGER]);
  return found !== undefined;
}

/** True when the ledger already holds every declaration as it is (the start-up fast path). */
export async function upToDate(db: Database, schemas: ModelSchema[]): Promise<boolean> {
  if (!(await ledgerExists(db, db))) return schemas.length === 0;
  const ledger = await readLedger(db);
  return schemas.every((s) => {
    const recorded = ledger.get(s.fullName);
    return recorded !== undefined && JSON.stringify({ ...stateOf(s, recorded.kept) }) === JSON.stringify(recorded);
  });
}

export interface DropPreview {
  model: string;
  column: string;
  /** Rows holding a value in the column: what the drop deletes. */
  values: number;
}

/** What `jit migrate --drop model.field` would delete: only a column no field declares any more. */
export async function previewDrop(db: Database, q: Queryable, schemas: ModelSchema[], target: string): Promise<DropPreview> {
  const dot = target.lastIndexOf(".");
  const model = target.slice(0, dot);
  const column = target.slice(dot + 1);
  const schema = schemas.find((s) => s.fullName === model);
  const refuse = (reason: string) => new ModelError("MIGRATION_REFUSED", { file: db.label, reason: `cannot drop ${target}: ${reason}` });
  if (!schema || dot < 0) throw refuse("no such model");
  if (schema.byName.has(column)) throw refuse(`${column} is a declared field; remove it from the declaration first`);
  const recorded = (await ledgerExists(db, q)) ? (await readLedger(q)).get(model) : undefined;
  if (!recorded?.kept.some((k) => k.name === column)) throw refuse(`${model} keeps no column ${column} (run jit migrate first, or check the name)`);
  return { model, column, values: await countRows(q, schema.table, `${quoteId(column)} IS NOT NULL`) };
}

export async function dropColumn(db: Database, schemas: ModelSchema[], target: string): Promise<DropPreview> {
  return underLock(db, async (tx) => {
    const preview = await previewDrop(db, tx, schemas, target);
    const schema = schemas.find((s) => s.fullName === preview.model)!;
    await tx.run(`ALTER TABLE ${quoteId(schema.table)} DROP COLUMN ${quoteId(preview.column)}`);
    const recorded = (await readLedger(tx)).get(preview.model)!;
    recorded.kept = recorded.kept.filter((k) => k.name !== preview.column);
    await tx.run(`UPDATE ${LEDGER} SET state = ?, updated_at = ? WHERE model = ?`, [JSON.stringify(recorded), Date.now(), preview.model]);
    return preview;
  });
}
