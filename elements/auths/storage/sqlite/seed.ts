import type { UnitContext } from "jit-runtime/element";
import type { SqliteStore } from "./SqliteStore.ts";

/**
 * Bulk seeding for benchmarks (e.g. 1,000,000 registered users): one user plus one
 * binding per index, openId = `${openIdPrefix}${index}`, written in large batches with one
 * IMMEDIATE transaction per batch and statements prepared once, so the fsync cost of
 * synchronous=FULL is paid per batch, not per row.
 */
export interface SeedOptions {
  appId: string;
  count: number;
  openIdPrefix: string;
  /** unionId = `${unionIdPrefix}${index}` when given; null otherwise. */
  unionIdPrefix?: string;
  /** First index (default 0), so several calls can extend one population. */
  startIndex?: number;
  /** Rows per transaction (default 50,000). */
  batch?: number;
  /** Every seeded user joins this organisation (created or renamed first). */
  corp?: { corpId: string; corpName: string };
  /** created_at of the rows (default 0: the store never reads the wall clock). */
  now?: number;
  /** Called after each committed batch with the number of users seeded so far. */
  onProgress?: (done: number) => void;
}

export interface SeedResult {
  count: number;
  firstUserId: number | null;
  lastUserId: number | null;
}

/** `immediate` runs its work in one IMMEDIATE transaction on the connection `ctx` prepares on. */
export function insertSeedUsers(ctx: UnitContext, immediate: (work: () => void) => void, options: SeedOptions): SeedResult {
  const { appId, count, openIdPrefix } = options;
  const start = options.startIndex ?? 0;
  const batch = Math.max(1, options.batch ?? 50_000);
  const now = options.now ?? 0;
  const insertUser = ctx.prepare(`INSERT INTO users (name, created_at) VALUES (NULL, ?)`);
  const insertBinding = ctx.prepare(
    `INSERT INTO identities (provider, realm, subject, union_id, user_id, created_at, updated_at) VALUES ('wechat-mini', ?, ?, ?, ?, ?, ?)`,
  );
  const addMember = ctx.prepare(`INSERT INTO corp_members (corp_id, user_id, joined_at) VALUES (?, ?, ?) ON CONFLICT DO NOTHING`);
  if (options.corp) {
    ctx.prepare(`INSERT INTO corps (corp_id, corp_name) VALUES (?, ?) ON CONFLICT (corp_id) DO UPDATE SET corp_name = excluded.corp_name`).run(
      options.corp.corpId,
      options.corp.corpName,
    );
  }

  let firstUserId: number | null = null;
  let lastUserId: number | null = null;
  const writeBatch = (from: number, to: number) => {
    for (let i = from; i < to; i++) {
      const userId = Number(insertUser.run(now).lastInsertRowid);
      insertBinding.run(appId, `${openIdPrefix}${i}`, options.unionIdPrefix ? `${options.unionIdPrefix}${i}` : null, userId, now, now);
      if (options.corp) addMember.run(options.corp.corpId, userId, now);
      firstUserId ??= userId;
      lastUserId = userId;
    }
  };
  for (let from = start; from < start + count; from += batch) {
    const to = Math.min(from + batch, start + count);
    immediate(() => writeBatch(from, to));
    options.onProgress?.(to - start);
  }
  return { count, firstUserId, lastUserId };
}

/** Convenience for benchmark scripts: `await seedUsers(store, { appId, count: 1e6, openIdPrefix: "bench-" })`. */
export async function seedUsers(store: SqliteStore, options: SeedOptions): Promise<SeedResult> {
  return store.seedUsers(options);
}
