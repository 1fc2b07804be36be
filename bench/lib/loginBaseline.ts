/**
 * The login bench's read-only row (kept for history), in its own process: a bare node:http
 * handler making the same jscode2session call and the same indexed SQLite lookup of the
 * binding, and nothing else (no writes). Env: BENCH_DB, WECHAT_API_BASE. Prints "ready <url>".
 */
import Database from "better-sqlite3";
import { BENCH_APP } from "./loginHarness.ts";
import { serveBareLogin } from "./bareLoginServer.ts";

const db = new Database(process.env.BENCH_DB!, { readonly: true });
const findBinding = db.prepare("SELECT user_id FROM identities WHERE provider = 'wechat-mini' AND realm = ? AND subject = ?");

serveBareLogin((answer) => {
  const row = findBinding.get(BENCH_APP.appId, answer.openid) as { user_id: number } | undefined;
  return { userId: row?.user_id ?? null };
});
