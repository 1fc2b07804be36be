/**
 * What getLoginCode must do after WeChat answered, written by hand the way a Node developer
 * would, for the login bench's comparison servers (loginHandWork.ts, loginEasyWechat.ts). The
 * same work as `jit serve`: the indexed binding lookup, the AES-256-GCM seal of the session
 * key, a token-sized random login code stored as its SHA-256, both writes in one
 * transaction, durable before the answer (WAL with synchronous = FULL: one fsync per commit,
 * on the event loop, which is what a hand-written server gets), then the user's corp list.
 * It shares no code with the runtime: the SQL is written out here, against the same schema.
 *
 * `synchronous: "NORMAL"` is what better-sqlite3 gives a developer who only turns WAL on: no
 * fsync at commit (the WAL is synced at checkpoints), so an answered login survives a crash
 * of the process but not of the machine. The bench runs it as a row of its own, less durable
 * than `jit serve`, to show what the default costs and buys.
 */
import { createCipheriv, createHash, createSecretKey, hkdfSync, randomBytes } from "node:crypto";
import Database from "better-sqlite3";

export interface WeChatAnswer {
  openid: string;
  session_key: string;
  unionid?: string;
}

export interface HandLoginAnswer {
  loginCode: string;
  corpList: Array<{ corpId: string; corpName: string }>;
  userId: number;
  expiresIn: number;
}

const CODE_TTL_SECONDS = 300;

/** Durability of a commit: FULL syncs the WAL before the answer, NORMAL leaves it to checkpoints. */
export type HandSynchronous = "FULL" | "NORMAL";

export function openHandLogin(dbFile: string, masterKey: Buffer, loginType: string, synchronous: HandSynchronous = "FULL") {
  const db = new Database(dbFile);
  db.pragma("journal_mode = WAL");
  db.pragma(`synchronous = ${synchronous}`);
  db.pragma("busy_timeout = 5000");
  const findBinding = db.prepare("SELECT user_id FROM identities WHERE provider = 'wechat-mini' AND realm = ? AND subject = ?");
  const listCorps = db.prepare(
    "SELECT c.corp_id, c.corp_name FROM corp_members m JOIN corps c ON c.corp_id = m.corp_id WHERE m.user_id = ? ORDER BY m.joined_at, m.corp_id",
  );
  const putKey = db.prepare(
    `INSERT INTO session_keys (app_id, open_id, sealed, updated_at) VALUES (?, ?, ?, ?)
     ON CONFLICT (app_id, open_id) DO UPDATE SET sealed = excluded.sealed, updated_at = excluded.updated_at`,
  );
  const insertCode = db.prepare(
    "INSERT INTO login_codes (code_hash, app_id, user_id, expires_at, created_at, login_type, open_id) VALUES (?, ?, ?, ?, ?, ?, ?)",
  );
  const saveBoth = db.transaction((appId: string, openId: string, sealed: string, codeHash: string, userId: number, now: number) => {
    putKey.run(appId, openId, sealed, now);
    insertCode.run(codeHash, appId, userId, now + CODE_TTL_SECONDS * 1000, now, loginType, openId);
  });
  const aesKey = createSecretKey(Buffer.from(hkdfSync("sha256", masterKey, Buffer.alloc(0), "bench/hand-written-vault", 32)));

  function seal(appId: string, openId: string, sessionKey: string): string {
    const iv = randomBytes(12);
    const cipher = createCipheriv("aes-256-gcm", aesKey, iv);
    cipher.setAAD(Buffer.from(JSON.stringify([appId, openId])));
    const ct = Buffer.concat([cipher.update(sessionKey, "utf8"), cipher.final()]);
    return `${iv.toString("base64url")}.${ct.toString("base64url")}.${cipher.getAuthTag().toString("base64url")}`;
  }

  /** The answer for a registered user; null for an unknown one (the bench sends none). */
  return function issue(appId: string, answer: WeChatAnswer): HandLoginAnswer | null {
    const row = findBinding.get(appId, answer.openid) as { user_id: number } | undefined;
    if (!row) return null;
    const loginCode = randomBytes(32).toString("base64url");
    const codeHash = createHash("sha256").update(loginCode).digest("hex");
    saveBoth(appId, answer.openid, seal(appId, answer.openid, answer.session_key), codeHash, row.user_id, Date.now());
    const corpList = (listCorps.all(row.user_id) as Array<{ corp_id: string; corp_name: string }>).map((c) => ({ corpId: c.corp_id, corpName: c.corp_name }));
    return { loginCode, corpList, userId: row.user_id, expiresIn: CODE_TTL_SECONDS };
  };
}
