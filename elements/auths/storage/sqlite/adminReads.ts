import type { SyncStatement, UnitContext } from "jit-runtime/element";
import type { AdminSessionView, AdminUserQuery, AdminUserView, CorpRecord } from "../Store.ts";
import { toBinding, toUser, type BindingRow, type UserRow } from "../rows.ts";

/**
 * The console's reads. Kept apart from statements.ts, whose statements all go through an
 * index (a test checks it): a page of users or a count scans, bounded by LIMIT, and only an
 * operator paging the console runs them. Searches and per-user lookups use indexes
 * (test/store-sqlite.test.ts checks the search's plan).
 */
export const ADMIN_SQL = {
  page: `SELECT user_id, name, created_at, phone FROM users ORDER BY user_id DESC LIMIT ? OFFSET ?`,
  count: `SELECT COUNT(*) AS n FROM users`,
  // A userId, an openId or a unionId: three indexed lookups (an OR across two columns would
  // scan the bindings). UNION ALL, deduplicated and sorted by the caller: a UNION or an
  // ORDER BY makes SQLite merge the arms in user_id order, walking the bindings to get it.
  searchIds: `SELECT user_id FROM users WHERE user_id = ?
              UNION ALL SELECT user_id FROM identities WHERE subject = ? AND provider = 'wechat-mini'
              UNION ALL SELECT user_id FROM identities WHERE union_id = ? AND provider = 'wechat-mini'`,
  user: `SELECT user_id, name, created_at, phone FROM users WHERE user_id = ?`,
  bindings: `SELECT realm AS app_id, subject AS open_id, union_id, user_id, created_at FROM identities
             WHERE user_id = ? AND provider = 'wechat-mini' ORDER BY realm`,
  corps: `SELECT c.corp_id, c.corp_name FROM corp_members m JOIN corps c ON c.corp_id = m.corp_id WHERE m.user_id = ? ORDER BY m.joined_at, m.corp_id`,
  liveCount: `SELECT COUNT(*) AS n FROM login_sessions WHERE user_id = ? AND expires_at > ?`,
  sessions: `SELECT substr(token_hash, 1, 16) AS session_id, user_id, corp_id, created_at, expires_at FROM login_sessions
             WHERE user_id = ? AND expires_at > ? ORDER BY created_at DESC, token_hash`,
} as const;

export type AdminStatements = { -readonly [K in keyof typeof ADMIN_SQL]: SyncStatement };

export function prepareAdmin(ctx: Pick<UnitContext, "prepare">): AdminStatements {
  const out = {} as AdminStatements;
  for (const name of Object.keys(ADMIN_SQL) as (keyof typeof ADMIN_SQL)[]) out[name] = ctx.prepare(ADMIN_SQL[name]);
  return out;
}


function view(q: AdminStatements, row: UserRow, now: number): AdminUserView {
  return {
    user: toUser(row),
    bindings: (q.bindings.all(row.user_id) as BindingRow[]).map(toBinding),
    corps: (q.corps.all(row.user_id) as { corp_id: string; corp_name: string }[]).map((r): CorpRecord => ({ corpId: r.corp_id, corpName: r.corp_name })),
    liveSessions: (q.liveCount.get(row.user_id, now) as { n: number }).n,
  };
}

/** One read transaction, so the page and its count agree. */
export function listUsers(snapshot: <T>(read: () => T) => T, q: AdminStatements, query: AdminUserQuery, now: number): { users: AdminUserView[]; total: number } {
  const limit = Math.min(Math.max(Math.trunc(query.limit), 1), 100);
  const offset = Math.max(Math.trunc(query.offset ?? 0), 0);
  const search = query.search?.trim() ?? "";
  return snapshot(() => {
    if (search === "") {
      const rows = q.page.all(limit, offset) as UserRow[];
      return { users: rows.map((r) => view(q, r, now)), total: (q.count.get() as { n: number }).n };
    }
    const asId = /^\d{1,15}$/.test(search) ? Number(search) : -1;
    const ids = [...new Set((q.searchIds.all(asId, search, search) as { user_id: number }[]).map((r) => r.user_id))].sort((a, b) => b - a);
    const rows = ids.slice(offset, offset + limit).map((id) => q.user.get(id) as UserRow);
    return { users: rows.map((r) => view(q, r, now)), total: ids.length };
  });
}

export function listUserSessions(q: AdminStatements, userId: number, now: number): AdminSessionView[] {
  const rows = q.sessions.all(userId, now) as { session_id: string; user_id: number; corp_id: string | null; created_at: number; expires_at: number }[];
  return rows.map((r) => ({ sessionId: r.session_id, userId: r.user_id, corpId: r.corp_id, createdAt: r.created_at, expiresAt: r.expires_at }));
}
