import type { PostgresDatabase } from "jit-runtime/element";
import type { AdminSessionView, AdminUserQuery, AdminUserView, CorpRecord } from "../Store.ts";
import { toBinding, toUser, type BindingRow, type UserRow } from "../rows.ts";

type Queryable = Pick<PostgresDatabase, "query">;

/**
 * The console's reads on PostgreSQL (the SQLite store's sqlite/adminReads.ts, same answers).
 * A page's bindings, organisations and live-session counts come in one query each for the
 * whole page (user_id = ANY), not one per user.
 */
export const ADMIN_PG = {
  page: `SELECT user_id, name, created_at, phone FROM users ORDER BY user_id DESC LIMIT $1 OFFSET $2`,
  count: `SELECT COUNT(*) AS n FROM users`,
  // Three indexed lookups, deduplicated and sorted by the caller (as in the SQLite store).
  searchIds: `SELECT user_id FROM users WHERE user_id = $1
              UNION ALL SELECT user_id FROM identities WHERE subject = $2 AND provider = 'wechat-mini'
              UNION ALL SELECT user_id FROM identities WHERE union_id = $2 AND provider = 'wechat-mini'`,
  users: `SELECT user_id, name, created_at, phone FROM users WHERE user_id = ANY($1::bigint[]) ORDER BY user_id DESC`,
  bindings: `SELECT realm AS app_id, subject AS open_id, union_id, user_id, created_at FROM identities
             WHERE user_id = ANY($1::bigint[]) AND provider = 'wechat-mini' ORDER BY realm`,
  corps: `SELECT m.user_id, c.corp_id, c.corp_name FROM corp_members m JOIN corps c ON c.corp_id = m.corp_id
          WHERE m.user_id = ANY($1::bigint[]) ORDER BY m.joined_at, m.corp_id`,
  liveCounts: `SELECT user_id, COUNT(*) AS n FROM login_sessions WHERE user_id = ANY($1::bigint[]) AND expires_at > $2 GROUP BY user_id`,
  sessions: `SELECT left(token_hash, 16) AS session_id, user_id, corp_id, created_at, expires_at FROM login_sessions
             WHERE user_id = $1 AND expires_at > $2 ORDER BY created_at DESC, token_hash`,
  deleteUserSession: `DELETE FROM login_sessions WHERE user_id = $1 AND left(token_hash, 16) = $2`,
} as const;

async function views(db: Queryable, rows: UserRow[], now: number): Promise<AdminUserView[]> {
  const ids = rows.map((r) => r.user_id);
  if (ids.length === 0) return [];
  const [bindings, corps, live] = await Promise.all([
    db.query<BindingRow>(ADMIN_PG.bindings, [ids]),
    db.query<{ user_id: number; corp_id: string; corp_name: string }>(ADMIN_PG.corps, [ids]),
    db.query<{ user_id: number; n: number }>(ADMIN_PG.liveCounts, [ids, now]),
  ]);
  return rows.map((row) => ({
    user: toUser(row),
    bindings: bindings.rows.filter((b) => b.user_id === row.user_id).map(toBinding),
    corps: corps.rows.filter((c) => c.user_id === row.user_id).map((c): CorpRecord => ({ corpId: c.corp_id, corpName: c.corp_name })),
    liveSessions: live.rows.find((l) => l.user_id === row.user_id)?.n ?? 0,
  }));
}

export async function listUsers(db: Queryable, query: AdminUserQuery, now: number): Promise<{ users: AdminUserView[]; total: number }> {
  const limit = Math.min(Math.max(Math.trunc(query.limit), 1), 100);
  const offset = Math.max(Math.trunc(query.offset ?? 0), 0);
  const search = query.search?.trim() ?? "";
  if (search === "") {
    const [page, count] = await Promise.all([db.query<UserRow>(ADMIN_PG.page, [limit, offset]), db.query<{ n: number }>(ADMIN_PG.count)]);
    return { users: await views(db, page.rows, now), total: count.rows[0]!.n };
  }
  const asId = /^\d{1,15}$/.test(search) ? Number(search) : -1;
  const ids = [...new Set((await db.query<{ user_id: number }>(ADMIN_PG.searchIds, [asId, search])).rows.map((r) => r.user_id))].sort((a, b) => b - a);
  const pageIds = ids.slice(offset, offset + limit);
  const rows = pageIds.length ? (await db.query<UserRow>(ADMIN_PG.users, [pageIds])).rows : [];
  return { users: await views(db, rows, now), total: ids.length };
}

export async function listUserSessions(db: Queryable, userId: number, now: number): Promise<AdminSessionView[]> {
  const { rows } = await db.query<{ session_id: string; user_id: number; corp_id: string | null; created_at: number; expires_at: number }>(ADMIN_PG.sessions, [userId, now]);
  return rows.map((r) => ({ sessionId: r.session_id, userId: r.user_id, corpId: r.corp_id, createdAt: r.created_at, expiresAt: r.expires_at }));
}
