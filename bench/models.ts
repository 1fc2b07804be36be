/**
 * Models benchmark: create and query 10,000 rows through `models.OrderModel` against the
 * same statements written by hand (better-sqlite3 prepared statements; pg with $n
 * parameters), in the same run, on the same database, with the same table (the model's
 * DDL) and the same durability (SQLite: WAL, synchronous FULL). The hand-written side
 * checks nothing and shapes nothing; the ratio is what validation, SQL building and row
 * shaping cost. Target: ≥ 0.7× on both databases.
 * Run: node cli/run-ts.js bench/models.ts   (BENCH_PG_URL=postgres://… adds PostgreSQL; default 127.0.0.1:5432)
 */
import { mkdtemp, rm, writeFile, mkdir } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import Database from "better-sqlite3";
import pg from "pg";
import { loadApp, silentLogger, type App } from "../runtime/index.ts";
import type { Model } from "../elements/models/Meta/index.ts";
import { createTable } from "../elements/models/Meta/ddl.ts";
import { buildSchema } from "../elements/models/Meta/schema.ts";

const ROWS = Number(process.env.BENCH_ROWS ?? 10_000);
const PAGE = 1_000;
const TARGET = 0.7;
const ORDER_MODEL = {
  type: "models.NormalType",
  title: "Order",
  fields: [
    { name: "id", dataType: "AutoInt", primaryKey: true },
    { name: "userId", dataType: "Numeric", required: true, dbIndex: true },
    { name: "item", dataType: "Stext", maxLength: 64, required: true },
    { name: "qty", dataType: "Numeric", default: 1 },
    { name: "note", dataType: "Ltext" },
    { name: "createdAt", dataType: "Datetime" },
  ],
};
const HAND_TABLE = "hand_orders";

const row = (i: number) => ({ userId: i % 100, item: `item-${i}`, qty: (i % 5) + 1, note: i % 3 === 0 ? null : `note ${i}`, createdAt: 1_700_000_000_000 + i });

interface Hand {
  create(r: ReturnType<typeof row>): Promise<unknown>;
  page(page: number): Promise<{ rows: unknown[]; total: number }>;
  byUser(userId: number): Promise<{ rows: unknown[]; total: number }>;
}

function sqliteHand(file: string): { hand: Hand; close(): void } {
  const db = new Database(file);
  db.pragma("journal_mode = WAL");
  db.pragma("synchronous = FULL");
  db.pragma("busy_timeout = 5000");
  db.exec(createTable({ ...buildSchema("x", ORDER_MODEL), table: HAND_TABLE }, "sqlite"));
  db.exec(`CREATE INDEX hand_user ON ${HAND_TABLE} ("userId")`);
  const insert = db.prepare(`INSERT INTO ${HAND_TABLE} ("userId", "item", "qty", "note", "createdAt") VALUES (?, ?, ?, ?, ?) RETURNING *`);
  const page = db.prepare(`SELECT * FROM ${HAND_TABLE} ORDER BY "id" LIMIT ? OFFSET ?`);
  const countAll = db.prepare(`SELECT count(*) AS n FROM ${HAND_TABLE}`);
  const byUser = db.prepare(`SELECT * FROM ${HAND_TABLE} WHERE "userId" = ? ORDER BY "createdAt" DESC, "id" LIMIT ? OFFSET ?`);
  const count = db.prepare(`SELECT count(*) AS n FROM ${HAND_TABLE} WHERE "userId" = ?`);
  return {
    hand: {
      create: async (r) => insert.get(r.userId, r.item, r.qty, r.note, r.createdAt),
      page: async (p) => ({ rows: page.all(PAGE, (p - 1) * PAGE), total: (countAll.get() as { n: number }).n }),
      byUser: async (u) => ({ rows: byUser.all(u, 20, 0), total: (count.get(u) as { n: number }).n }),
    },
    close: () => db.close(),
  };
}

async function pgHand(url: string): Promise<{ hand: Hand; close(): Promise<void> }> {
  const pool = new pg.Pool({ connectionString: url, max: 10 });
  pool.on("error", () => undefined); // an idle connection the server ended: the pool replaces it
  await pool.query(createTable({ ...buildSchema("x", ORDER_MODEL), table: HAND_TABLE }, "postgres"));
  await pool.query(`CREATE INDEX hand_user ON ${HAND_TABLE} ("userId")`);
  return {
    hand: {
      create: (r) => pool.query(`INSERT INTO ${HAND_TABLE} ("userId", "item", "qty", "note", "createdAt") VALUES ($1, $2, $3, $4, $5) RETURNING *`, [r.userId, r.item, r.qty, r.note, r.createdAt]),
      page: async (p) => {
        const [rows, total] = await Promise.all([pool.query(`SELECT * FROM ${HAND_TABLE} ORDER BY "id" LIMIT $1 OFFSET $2`, [PAGE, (p - 1) * PAGE]), pool.query(`SELECT count(*) AS n FROM ${HAND_TABLE}`)]);
        return { rows: rows.rows, total: Number(total.rows[0].n) };
      },
      byUser: async (u) => {
        const [rows, total] = await Promise.all([
          pool.query(`SELECT * FROM ${HAND_TABLE} WHERE "userId" = $1 ORDER BY "createdAt" DESC, "id" LIMIT $2 OFFSET $3`, [u, 20, 0]),
          pool.query(`SELECT count(*) AS n FROM ${HAND_TABLE} WHERE "userId" = $1`, [u]),
        ]);
        return { rows: rows.rows, total: Number(total.rows[0].n) };
      },
    },
    close: () => pool.end(),
  };
}

interface Figures {
  what: string;
  model: number;
  hand: number;
}

/**
 * Model and hand-written calls alternate one by one, each timed on its own, so the load of
 * a shared machine (fsync stalls, other processes) falls on both sides alike.
 */
async function interleaved(count: number, model: (i: number) => Promise<unknown>, hand: (i: number) => Promise<unknown>): Promise<{ model: number; hand: number }> {
  let m = 0n;
  let h = 0n;
  for (let i = 0; i < count; i++) {
    // Which side goes first alternates too: the second finds caches the first warmed.
    const [first, second] = i % 2 === 0 ? [model, hand] : [hand, model];
    const a = process.hrtime.bigint();
    await first(i);
    const b = process.hrtime.bigint();
    await second(i);
    const c = process.hrtime.bigint();
    if (i % 2 === 0) {
      m += b - a;
      h += c - b;
    } else {
      h += b - a;
      m += c - b;
    }
  }
  return { model: Number(m) / 1e6, hand: Number(h) / 1e6 };
}

async function measure(model: Model, hand: Hand): Promise<Figures[]> {
  const out: Figures[] = [];
  const created = await interleaved(ROWS, (i) => model.create(row(i)), (i) => hand.create(row(i)));
  out.push({ what: `create ${ROWS.toLocaleString("en")} rows, one at a time`, ...created });
  const pages = Math.ceil(ROWS / PAGE);
  const rounds = 10;
  const read = await interleaved(pages * rounds, (i) => model.query({ page: (i % pages) + 1, size: PAGE }), (i) => hand.page((i % pages) + 1));
  out.push({ what: `query all ${ROWS.toLocaleString("en")} rows in pages of ${PAGE} (${rounds} times)`, ...read });
  const byUser = await interleaved(
    ROWS,
    (i) => model.query({ filter: { userId: i % 100 }, orderList: [["createdAt", -1]], size: 20 }),
    (i) => hand.byUser(i % 100),
  );
  out.push({ what: `${ROWS.toLocaleString("en")} queries by userId (20 newest + totalCount)`, ...byUser });
  return out;
}

async function shopApp(root: string, db: string): Promise<App> {
  await mkdir(path.join(root, "apps/bench/elements/models/OrderModel"), { recursive: true });
  await writeFile(path.join(root, "package.json"), JSON.stringify({ type: "module", private: true }));
  await writeFile(path.join(root, "apps/bench/app.json"), JSON.stringify({ appId: "bench", title: "bench" }));
  await writeFile(path.join(root, "apps/bench/elements/models/OrderModel/e.json"), JSON.stringify(ORDER_MODEL));
  return loadApp({ root, appId: "bench", dbFile: db, logger: silentLogger, env: {} });
}

function report(database: string, figures: Figures[]): boolean {
  let ok = true;
  console.log(`\n${database}`);
  for (const f of figures) {
    const ratio = f.hand / f.model; // throughput of the model relative to the hand-written statements
    ok &&= ratio >= TARGET;
    console.log(`  ${f.what.padEnd(58)} model ${f.model.toFixed(0).padStart(7)} ms   by hand ${f.hand.toFixed(0).padStart(7)} ms   ${ratio.toFixed(2)}× ${ratio >= TARGET ? "ok" : `below ${TARGET}×`}`);
  }
  return ok;
}

const root = await mkdtemp(path.join(os.tmpdir(), "jit-bench-models-"));
let ok = true;
try {
  const file = path.join(root, "bench.sqlite");
  const app = await shopApp(root, file);
  const model = app.getElement<Model>("models.OrderModel");
  await model.count(); // the table is made here, not inside the timing
  const hand = sqliteHand(file);
  ok = report("SQLite (WAL, synchronous FULL)", await measure(model, hand.hand)) && ok;
  hand.close();
  await app.close();

  const admin = process.env.BENCH_PG_URL ?? "postgres://postgres@127.0.0.1:5432/postgres";
  const name = `jit_bench_${process.pid}`;
  const adminClient = new pg.Client({ connectionString: admin, connectionTimeoutMillis: 3000 });
  const reachable = await adminClient.connect().then(() => true, () => false);
  if (reachable) {
    await adminClient.query(`CREATE DATABASE ${name}`);
    const url = new URL(admin);
    url.pathname = `/${name}`;
    try {
      const pgApp = await shopApp(await mkdtemp(path.join(root, "pg-")), url.toString());
      const pgModel = pgApp.getElement<Model>("models.OrderModel");
      await pgModel.count();
      const pgBench = await pgHand(url.toString());
      ok = report("PostgreSQL 15 (pool of 10, default settings)", await measure(pgModel, pgBench.hand)) && ok;
      await pgBench.close();
      await pgApp.close();
    } finally {
      await adminClient.query(`DROP DATABASE IF EXISTS ${name} WITH (FORCE)`);
      await adminClient.end();
    }
  } else {
    console.log("\nPostgreSQL: not reachable, skipped");
  }
} finally {
  await rm(root, { recursive: true, force: true });
}
process.exitCode = ok ? 0 : 1;
