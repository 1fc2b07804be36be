import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { loginKeys } from "../../elements/auths/loginTypes/PasswordType/lockout.ts";
import { hashToken } from "../../runtime/security/tokens.ts";
import { crashPointFrom } from "../../runtime/database/crashPoints.ts";
import { AUTH, DEMO_APPID, LOGIN, TEST_MASTER_KEY, makeTempRoot, post, removeDir, startStack, type Reply, type Stack } from "../helpers/http.ts";
import { JIT_BIN, startChild } from "../helpers/httpChild.ts";
import { recordFigures } from "./figures.ts";
import { SCALE } from "./scale.ts";
import { storeOf } from "../../elements/auths/storage/storeOf.ts";

// Crash at every write: for each write path, `jit serve` is killed with SIGKILL at each
// statement boundary of its write unit (the test-only hook of runtime/database/
// crashPoints.ts: before each statement, after the last one, after the COMMIT), on a copy
// of one prepared database. After the crash the database passes integrity_check and
// foreign_key_check, has no orphan rows, holds every change that was answered 200, and
// every single-use code is spent exactly when its effect is there (so it cannot be used twice,
// nor be lost spent without its effect). The wx.login code ledger's paths then restart
// `jit serve` on the crashed database and send the same wx.login code again.

interface Prepared {
  bindCode: string;
  loginCode: string;
  u1: number;
  t1: string;
  u2: number;
  t2: string;
  /** When the database was prepared: rows created later are the runs' own. */
  preparedAt: number;
  users: number;
  /** The password user "crash-pw": two sessions, an unused login code, one failed login. */
  pwUser: number;
  pwToken: string;
  pwOtherToken: string;
  pwLoginCode: string;
  pwHash: string;
  /** Its three lockout keys (pair, user, address from 127.0.0.1), each at one failure. */
  failureKeys: string[];
}

interface Ctx {
  base: string;
  prepared: Prepared;
  code(openId: string): string;
  /** The wx.login codes `code` minted in this run, in order. */
  minted: string[];
}

interface WritePath {
  name: string;
  unit: string;
  /** The request that reaches the unit (null: the unit runs at start-up). */
  op: ((base: string, ctx: Ctx) => Promise<Reply>) | null;
  /** What must hold in the database after the crash, given the answer if one came. */
  check(db: Database.Database, ctx: Ctx, answer: Reply | null): string[];
  /** After the check: `jit serve` restarted on the crashed database (no crash point), `op` sent, then `check`. */
  replay?: {
    op(base: string, ctx: Ctx): Promise<Reply>;
    check(db: Database.Database, ctx: Ctx, answer: Reply | null, replayed: Reply | null): string[];
  };
}

const count = (db: Database.Database, sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
const EXPIRED = "crash-expired";
const PASSWORD = "/api/demo/auths/loginTypes/myPasswordLogin";
const REALM = "password:demo";
const PW = "Crash-Pw-Old-5e2b9d";
const PW_NEW = "Crash-Pw-New-a71c04";
// Cheap scrypt (N = 2^12) in both roots: the same parameters, so no login rehashes (a second updatePasswordHash).
const ROOT_FILES = {
  "apps/demo/elements/auths/loginTypes/myPasswordLogin/myPasswordLogin.json": JSON.stringify({
    authConfig: { registerCorpId: "demo-corp", registerCorpName: "Demo Corp", scrypt: { ln: 12, r: 8, p: 1 } },
  }),
};

/**
 * getLoginCode of u1 with a fresh wx.login code (ctx.minted[0]): its login code and the
 * ledger's record of it (state 'answered', the answer sealed) are written in one commit, so
 * after a crash both are there or neither; an answered login code has both.
 */
function ledgerState(db: Database.Database, { prepared, minted }: Ctx): { state: string | null; sealed: boolean; added: number } {
  const row = db.prepare("SELECT state, sealed_answer FROM wx_codes WHERE code_hash = ?").get(hashToken(minted[0]!)) as { state: string; sealed_answer: string | null } | undefined;
  // Counted by creation: the purge at start-up deletes the prepared used and expired codes.
  const added = count(db, "SELECT COUNT(*) n FROM login_codes WHERE user_id = ? AND created_at > ?", prepared.u1, prepared.preparedAt);
  return { state: row?.state ?? null, sealed: row?.sealed_answer != null, added };
}

function ledgerProblems(db: Database.Database, ctx: Ctx, answer: Reply | null): string[] {
  if (ctx.minted.length !== 1) return [`the op minted ${ctx.minted.length} wx.login codes, not 1`];
  const { state, sealed, added } = ledgerState(db, ctx);
  const answered = state === "answered" && sealed;
  const problems: string[] = [];
  if (answer?.status === 200) {
    if (count(db, "SELECT COUNT(*) n FROM login_codes WHERE code_hash = ?", hashToken(answer.body.data.loginCode)) !== 1) problems.push("acknowledged login code missing");
    if (!answered) problems.push(`acknowledged login code, but its ledger entry is ${state ?? "absent"}${state === "answered" ? " without its sealed answer" : ""}`);
  }
  if (state === "answered" && !sealed) problems.push("ledger entry answered without a sealed answer");
  if (state !== null && state !== "running" && state !== "answered") problems.push(`ledger entry ${state} after a getLoginCode that never failed`);
  if (added !== (answered ? 1 : 0)) problems.push(`ledger entry ${state ?? "absent"} but ${added} new login codes (the two share one commit)`);
  return problems;
}

/**
 * The same wx.login code sent again to the restarted server: the login code already answered
 * (or sealed in the ledger), or, when nothing was committed, a new one (or WECHAT_CODE_USED
 * when WeChat had already exchanged the code: 40163); one login code at most per wx.login code.
 */
const LEDGER_REPLAY: NonNullable<WritePath["replay"]> = {
  op: (base, ctx) => post(base, `${LOGIN}/getLoginCode`, { code: ctx.minted[0] }),
  check(db, ctx, answer, replayed) {
    if (!replayed) return ["no answer to the wx.login code sent again after the restart"];
    if (replayed.status >= 500) return [`the wx.login code sent again got ${replayed.status} ${replayed.body?.error?.code ?? replayed.text.slice(0, 100)}`];
    const { state, sealed, added } = ledgerState(db, ctx);
    const problems: string[] = [];
    if (replayed.status === 200) {
      const loginCode: unknown = replayed.body?.data?.loginCode;
      if (typeof loginCode !== "string") return [`the wx.login code sent again got 200 without a login code: ${replayed.text.slice(0, 100)}`];
      if (answer?.status === 200 && loginCode !== answer.body.data.loginCode) problems.push("two different login codes answered for one wx.login code");
      if (count(db, "SELECT COUNT(*) n FROM login_codes WHERE code_hash = ?", hashToken(loginCode)) !== 1) problems.push("the login code answered after the restart is not stored");
      if (added !== 1) problems.push(`${added} new login codes for one wx.login code after the restart`);
      if (state !== "answered" || !sealed) problems.push(`ledger entry ${state ?? "absent"} after the restart answered a login code`);
    } else {
      if (replayed.body?.error?.code !== "WECHAT_CODE_USED") problems.push(`the wx.login code sent again got ${replayed.status} ${replayed.body?.error?.code ?? replayed.text.slice(0, 100)}`);
      if (answer?.status === 200) problems.push("an answered login code refused when its wx.login code came again");
      if (added !== 0) problems.push(`WECHAT_CODE_USED after the restart, but ${added} login codes were stored for the wx.login code`);
    }
    return problems;
  },
};

const u1LoginCode = (base: string, ctx: Ctx) => post(base, `${LOGIN}/getLoginCode`, { code: ctx.code("crash-u1") });

const PATHS: WritePath[] = [
  {
    name: "register",
    unit: "redeemBindCode",
    op: (base, { prepared }) => post(base, `${LOGIN}/register`, { bindCode: prepared.bindCode }),
    check(db, { prepared }, answer) {
      const spent = count(db, "SELECT COUNT(*) n FROM bind_codes WHERE code_hash = ? AND used_at IS NOT NULL", hashToken(prepared.bindCode)) === 1;
      const bound = count(db, "SELECT COUNT(*) n FROM (SELECT realm AS app_id, subject AS open_id, union_id, user_id FROM identities WHERE provider = 'wechat-mini') w WHERE open_id = 'crash-new'") === 1;
      const problems: string[] = [];
      if (spent !== bound) problems.push(`bind code spent=${spent} but binding present=${bound}`);
      if (answer?.status === 200 && !bound) problems.push("acknowledged registration missing");
      if (bound && count(db, "SELECT COUNT(*) n FROM login_codes l JOIN (SELECT realm AS app_id, subject AS open_id, union_id, user_id FROM identities WHERE provider = 'wechat-mini') b ON b.user_id = l.user_id WHERE b.open_id = 'crash-new'") !== 1) problems.push("registration without its login code");
      return problems;
    },
  },
  // getLoginCode's writes of one commit: session key, login code (and the ledger's record, below).
  { name: "getLoginCode: session key", unit: "putSessionKey", op: u1LoginCode, check: ledgerProblems },
  { name: "getLoginCode: login code", unit: "saveLoginCode", op: u1LoginCode, check: ledgerProblems },
  {
    name: "getLoginCode: bind code",
    unit: "saveBindCode",
    op: (base, ctx) => post(base, `${LOGIN}/getLoginCode`, { code: ctx.code("crash-another-new") }),
    check: (db, _ctx, answer) => (answer?.status === 200 && count(db, "SELECT COUNT(*) n FROM bind_codes WHERE code_hash = ?", hashToken(answer.body.data.bindCode)) !== 1 ? ["acknowledged bind code missing"] : []),
  },
  {
    name: "loginByCode",
    unit: "redeemLoginCode",
    op: (base, { prepared }) => post(base, `${AUTH}/loginByCode`, { loginCode: prepared.loginCode }),
    check(db, { prepared }, answer) {
      const spent = count(db, "SELECT COUNT(*) n FROM login_codes WHERE code_hash = ? AND used_at IS NOT NULL", hashToken(prepared.loginCode)) === 1;
      const sessions = count(db, "SELECT COUNT(*) n FROM login_sessions WHERE user_id = ?", prepared.u1);
      const problems: string[] = [];
      // u1 had one session (t1) when the database was prepared.
      if (spent !== (sessions === 2)) problems.push(`login code spent=${spent} but sessions=${sessions}`);
      if (answer?.status === 200 && count(db, "SELECT COUNT(*) n FROM login_sessions WHERE token_hash = ?", hashToken(answer.body.data.token)) !== 1) problems.push("acknowledged session missing");
      return problems;
    },
  },
  {
    name: "bind",
    unit: "createBinding",
    op: (base, ctx) => post(base, `${LOGIN}/bind`, { userId: ctx.prepared.u2, code: ctx.code("crash-u2") }, { token: ctx.prepared.t2 }),
    check: (db, { prepared }, answer) => (answer?.status === 200 && count(db, "SELECT COUNT(*) n FROM (SELECT realm AS app_id, subject AS open_id, union_id, user_id FROM identities WHERE provider = 'wechat-mini') w WHERE user_id = ?", prepared.u2) !== 1 ? ["acknowledged bind missing"] : []),
  },
  {
    name: "unbind",
    unit: "deleteBinding",
    op: (base, { prepared }) => post(base, `${LOGIN}/unbind`, { userId: prepared.u1 }, { token: prepared.t1 }),
    check(db, { prepared }, answer) {
      const bound = count(db, "SELECT COUNT(*) n FROM (SELECT realm AS app_id, subject AS open_id, union_id, user_id FROM identities WHERE provider = 'wechat-mini') w WHERE user_id = ?", prepared.u1) === 1;
      const marked = count(db, "SELECT COUNT(*) n FROM unbound_identities WHERE subject = 'crash-u1'") === 1;
      const liveSession = count(db, "SELECT COUNT(*) n FROM login_sessions WHERE token_hash = ?", hashToken(prepared.t1)) === 1;
      const problems: string[] = [];
      if (bound === marked || bound !== liveSession) problems.push(`unbind half done: bound=${bound} marked=${marked} session=${liveSession}`);
      if (answer?.status === 200 && bound) problems.push("acknowledged unbind undone");
      return problems;
    },
  },
  {
    name: "logout",
    unit: "deleteSession",
    op: (base, { prepared }) => post(base, `${AUTH}/logout`, {}, { token: prepared.t1 }),
    check: (db, { prepared }, answer) => (answer?.status === 200 && count(db, "SELECT COUNT(*) n FROM login_sessions WHERE token_hash = ?", hashToken(prepared.t1)) !== 0 ? ["acknowledged logout undone"] : []),
  },
  // The ledger's claim, committed alone before the WeChat call, and its record of the answer,
  // in the commit of the session key and the login code. (After the paths that use prepared
  // 5-minute codes: a replay may wait out a dead claim's lease, about 10 s.)
  { name: "getLoginCode: ledger claim", unit: "claimWxCode", op: u1LoginCode, check: ledgerProblems, replay: LEDGER_REPLAY },
  { name: "getLoginCode: ledger record", unit: "settleWxCode", op: u1LoginCode, check: ledgerProblems, replay: LEDGER_REPLAY },
  {
    name: "password register",
    unit: "registerPasswordUser",
    op: (base) => post(base, `${PASSWORD}/register`, { username: "crash-pw-new", password: PW_NEW }),
    check(db, { prepared }, answer) {
      const newUsers = count(db, "SELECT COUNT(*) n FROM users") - prepared.users;
      const cred = db.prepare("SELECT user_id FROM (SELECT realm, subject AS username, user_id, secret_hash AS password_hash FROM identities WHERE provider = 'password') p WHERE realm = ? AND username = 'crash-pw-new'").get(REALM) as { user_id: number } | undefined;
      const member = cred ? count(db, "SELECT COUNT(*) n FROM corp_members WHERE user_id = ? AND corp_id = 'demo-corp'", cred.user_id) : 0;
      const code = cred ? count(db, "SELECT COUNT(*) n FROM login_codes WHERE user_id = ? AND open_id = 'crash-pw-new'", cred.user_id) : 0;
      const problems: string[] = [];
      if (newUsers !== (cred ? 1 : 0) || member !== newUsers || code !== newUsers) problems.push(`register half done: ${newUsers} new users, credential ${cred ? "present" : "absent"}, ${member} memberships, ${code} login codes`);
      if (answer?.status === 200) {
        if (cred?.user_id !== answer.body.data.userId) problems.push("acknowledged password registration missing");
        if (count(db, "SELECT COUNT(*) n FROM login_codes WHERE code_hash = ?", hashToken(answer.body.data.loginCode)) !== 1) problems.push("acknowledged first login code missing");
      }
      return problems;
    },
  },
  {
    name: "password: wrong password",
    unit: "recordLoginFailure",
    op: (base) => post(base, `${PASSWORD}/getLoginCode`, { username: "crash-pw", password: "Crash-Pw-Wrong-00000" }),
    check(db, { prepared }, answer) {
      // Each key was at one failure; the attempt counts one more on all three or on none.
      const failures = prepared.failureKeys.map((key) => (db.prepare("SELECT failures FROM login_failures WHERE key_hash = ?").get(key) as { failures: number } | undefined)?.failures ?? 0);
      const problems: string[] = [];
      const counted = failures.every((f) => f === 2);
      if (!counted && !failures.every((f) => f === 1)) problems.push(`failure counted on some keys only: ${failures.join(", ")} (pair, user, address)`);
      if (count(db, "SELECT COUNT(*) n FROM login_failures") !== 3) problems.push("failure counted under other keys");
      if (answer?.status === 401 && !counted) problems.push("acknowledged failure (401) not counted");
      return problems;
    },
  },
  {
    name: "password: updatePassword",
    unit: "updatePasswordHash",
    op: (base, { prepared }) => post(base, `${PASSWORD}/updatePassword`, { oldPassword: PW, newPassword: PW_NEW }, { token: prepared.pwToken }),
    check(db, { prepared }, answer) {
      const hash = (db.prepare("SELECT password_hash FROM (SELECT realm, subject AS username, user_id, secret_hash AS password_hash FROM identities WHERE provider = 'password') p WHERE realm = ? AND user_id = ?").get(REALM, prepared.pwUser) as { password_hash: string } | undefined)?.password_hash;
      const changed = hash !== prepared.pwHash;
      const otherEnded = count(db, "SELECT COUNT(*) n FROM login_sessions WHERE token_hash = ?", hashToken(prepared.pwOtherToken)) === 0;
      const codeVoided = count(db, "SELECT COUNT(*) n FROM login_codes WHERE code_hash = ? AND used_at IS NOT NULL", hashToken(prepared.pwLoginCode)) === 1;
      const problems: string[] = [];
      if (hash === undefined) problems.push("password credential gone");
      if (changed !== otherEnded || changed !== codeVoided) problems.push(`password change half done: hash changed=${changed}, other session ended=${otherEnded}, login code voided=${codeVoided}`);
      if (count(db, "SELECT COUNT(*) n FROM login_sessions WHERE token_hash = ?", hashToken(prepared.pwToken)) !== 1) problems.push("the caller's own session ended");
      if (answer?.status === 200 && !changed) problems.push("acknowledged password change undone");
      return problems;
    },
  },
  {
    name: "purge",
    unit: "purgeExpired",
    op: null,
    check(db) {
      const left = count(db, "SELECT COUNT(*) n FROM bind_codes WHERE open_id = ?", EXPIRED) + count(db, "SELECT COUNT(*) n FROM login_codes WHERE open_id = ?", EXPIRED);
      return left === 0 || left === 2 ? [] : [`purge half done: ${left} of 2 expired rows left`];
    },
  },
];

/**
 * Problems any crash must not leave: damage, and rows whose owner is gone. A user is an
 * orphan without a credential: neither a WeChat binding nor a password.
 */
function structuralProblems(db: Database.Database, usersWithoutCredential: number): string[] {
  const problems: string[] = [];
  const integrity = db.pragma("integrity_check", { simple: true });
  if (integrity !== "ok") problems.push(`integrity_check: ${String(integrity)}`);
  if ((db.pragma("foreign_key_check") as unknown[]).length > 0) problems.push("foreign_key_check failed");
  const orphans = count(
    db,
    `SELECT COUNT(*) n FROM users u WHERE NOT EXISTS (SELECT 1 FROM (SELECT realm AS app_id, subject AS open_id, union_id, user_id FROM identities WHERE provider = 'wechat-mini') b WHERE b.user_id = u.user_id)
       AND NOT EXISTS (SELECT 1 FROM (SELECT realm, subject AS username, user_id, secret_hash AS password_hash FROM identities WHERE provider = 'password') p WHERE p.user_id = u.user_id)`,
  );
  if (orphans !== usersWithoutCredential) problems.push(`${orphans - usersWithoutCredential} users without their binding or password credential`);
  return problems;
}

describe("crash at every write", () => {
  let stack: Stack;
  let root: string;
  let baseDb: string;
  let prepared: Prepared;
  let usersWithoutCredential = 0;

  beforeAll(async () => {
    // One database prepared through the real flows: a pending bind code, a registered user
    // with an unused login code and a session, a user to bind with a session opened elsewhere,
    // a password user with two sessions, an unused login code and one failed login, and
    // expired rows for the purge.
    stack = await startStack({ keepLogs: false, extraFiles: ROOT_FILES });
    const first = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("crash-new") });
    const u1 = await stack.register("crash-u1");
    const { token: t1 } = await stack.login("crash-u1");
    const again = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("crash-u1") });
    const store = await storeOf(stack.app);
    const u2 = (await store.createUser({ name: "crash-u2" }, Date.now())).userId;
    const t2 = await stack.signInElsewhere(u2);
    const pwReg = await stack.call(`${PASSWORD}/register`, { username: "crash-pw", password: PW });
    if (pwReg.status !== 200) throw new Error(`password register: ${pwReg.text}`);
    const pwSession = async (loginCode: string) => {
      const session = await stack.call(`${AUTH}/loginByCode`, { loginCode });
      if (session.status !== 200) throw new Error(`loginByCode: ${session.text}`);
      return session.body.data.token as string;
    };
    const pwLogin = async () => {
      const got = await stack.call(`${PASSWORD}/getLoginCode`, { username: "crash-pw", password: PW });
      if (got.status !== 200) throw new Error(`password getLoginCode: ${got.text}`);
      return got.body.data.loginCode as string;
    };
    const pwToken = await pwSession(pwReg.body.data.loginCode);
    const pwOtherToken = await pwSession(await pwLogin());
    // Unused, and alive for a day (not 5 minutes): the full run reaches its path minutes later.
    const pwLoginCode = `crash-pw-login-${Date.now()}`;
    await store.saveLoginCode(hashToken(pwLoginCode), { appId: REALM, userId: pwReg.body.data.userId, expiresAt: Date.now() + 86_400_000, origin: { loginType: "auths.loginTypes.myPasswordLogin", appId: REALM, openId: "crash-pw" } }, Date.now());
    // Last: a successful login clears the username's failures.
    const wrong = await stack.call(`${PASSWORD}/getLoginCode`, { username: "crash-pw", password: "Crash-Pw-Wrong-00000" });
    if (wrong.status !== 401) throw new Error(`wrong password: ${wrong.text}`);
    const past = Date.now() - 86_400_000;
    await store.saveBindCode(hashToken("expired-bind"), { appId: DEMO_APPID, openId: EXPIRED, unionId: null, expiresAt: past }, past);
    await store.saveLoginCode(hashToken("expired-login"), { appId: DEMO_APPID, userId: u1, expiresAt: past, origin: { loginType: "auths.loginTypes.myWeChatMiniLogin", appId: DEMO_APPID, openId: EXPIRED } }, past);
    usersWithoutCredential = 1; // u2
    const preparedAt = Date.now();
    await stack.server.close();
    await stack.app.close();
    root = await makeTempRoot(ROOT_FILES);
    await mkdir(path.join(root, "data"), { recursive: true });
    baseDb = path.join(root, "data", "base.sqlite");
    await copyFile(stack.dbFile, baseDb);
    const db = new Database(baseDb, { readonly: true });
    try {
      const keys = loginKeys(REALM, "crash-pw", "127.0.0.1");
      const failureKeys = [keys.pair, keys.user, keys.address];
      // The keys the servers will count under: the prepared failure is on exactly these.
      const failures = failureKeys.map((key) => (db.prepare("SELECT failures FROM login_failures WHERE key_hash = ?").get(key) as { failures: number } | undefined)?.failures);
      if (failures.join() !== "1,1,1" || count(db, "SELECT COUNT(*) n FROM login_failures") !== 3) throw new Error(`prepared login failures: ${failures.join()}`);
      prepared = {
        bindCode: first.body.data.bindCode,
        loginCode: again.body.data.loginCode,
        u1,
        t1,
        u2,
        t2,
        preparedAt,
        users: count(db, "SELECT COUNT(*) n FROM users"),
        pwUser: pwReg.body.data.userId,
        pwToken,
        pwOtherToken,
        pwLoginCode,
        pwHash: (db.prepare("SELECT password_hash FROM (SELECT realm, subject AS username, user_id, secret_hash AS password_hash FROM identities WHERE provider = 'password') p WHERE realm = ? AND user_id = ?").get(REALM, pwReg.body.data.userId) as { password_hash: string }).password_hash,
        failureKeys,
      };
    } finally {
      db.close();
    }
  });
  afterAll(async () => {
    await stack?.fake.close();
    await removeDir(stack?.root ?? "");
    await removeDir(root ?? "");
  });

  /** `jit serve` on dbFile, armed at `crashAt` if given. */
  function serve(dbFile: string, crashAt: string | null) {
    return startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", dbFile, "--purge-interval", "0"], {
      WECHAT_API_BASE: stack.fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_RATE_LIMIT_IP: "off",
      JIT_RATE_LIMIT_OPENID: "off",
      JIT_RATE_LIMIT_USER: "off",
      NODE_ENV: "test",
      JIT_TEST_CRASH_AT: crashAt ?? undefined,
    });
  }

  async function withDb<T>(dbFile: string, read: (db: Database.Database) => T): Promise<T> {
    const db = new Database(dbFile);
    try {
      return read(db);
    } finally {
      db.close();
    }
  }

  /** One crash run: a fresh copy of the prepared database, `jit serve` armed at unit:step. */
  async function crashRun(wp: WritePath, step: number | "end" | "commit", n: number): Promise<{ died: boolean; problems: string[] }> {
    const dbFile = path.join(root, "data", `run-${n}.sqlite`);
    await copyFile(baseDb, dbFile);
    const minted: string[] = [];
    const ctx: Ctx = {
      base: "",
      prepared,
      minted,
      code: (openId) => {
        const code = stack.code(openId);
        minted.push(code);
        return code;
      },
    };
    const child = serve(dbFile, `${wp.unit}:${step}`);
    let answer: Reply | null = null;
    let died: boolean;
    const problems: string[] = [];
    try {
      if (wp.op) {
        const listening = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/).catch(() => null);
        if (!listening) throw new Error(`${wp.name}: jit serve did not start: ${child.stderr().slice(-500)}`);
        answer = await wp.op(listening[1]!, { ...ctx, base: listening[1]! }).catch(() => null);
      }
      died = await Promise.race([child.exited.then((e) => e.signal === "SIGKILL"), new Promise<boolean>((r) => setTimeout(() => r(false), wp.op ? 1_500 : 8_000))]);
      child.kill("SIGKILL");
      await child.exited;
      problems.push(
        ...(await withDb(dbFile, (db) => {
          // An unbind that took place leaves u1 without a binding, and a bind gives u2 one, as they should.
          const bound = (userId: number) => count(db, "SELECT COUNT(*) n FROM (SELECT realm AS app_id, subject AS open_id, union_id, user_id FROM identities WHERE provider = 'wechat-mini') w WHERE user_id = ?", userId) === 1;
          const expected = usersWithoutCredential + (bound(prepared.u1) ? 0 : 1) - (bound(prepared.u2) ? 1 : 0);
          return [...structuralProblems(db, expected), ...wp.check(db, ctx, answer)];
        })),
      );
    } finally {
      child.kill("SIGKILL");
    }
    if (wp.replay && minted.length > 0) {
      // The crashed database served again, without the crash point.
      const again = serve(dbFile, null);
      let replayed: Reply | null = null;
      try {
        const listening = await again.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/).catch(() => null);
        if (!listening) throw new Error(`${wp.name}: jit serve did not restart on the crashed database: ${again.stderr().slice(-500)}`);
        replayed = await wp.replay.op(listening[1]!, { ...ctx, base: listening[1]! }).catch(() => null);
      } finally {
        again.kill("SIGKILL");
        await again.exited;
      }
      problems.push(...(await withDb(dbFile, (db) => wp.replay!.check(db, ctx, answer, replayed).map((p) => `after the restart: ${p}`))));
    }
    return { died, problems };
  }

  it("leaves a sound database after SIGKILL at every statement boundary of every write path", { timeout: 900_000 }, async () => {
    // The full run tries every boundary of every path; the reduced one (npm test) five:
    // statements, after the last statement, after the COMMIT (one with the restart).
    const full = SCALE >= 1;
    const reduced: Record<string, number | "end" | "commit"> = {
      register: 1,
      loginByCode: "commit",
      unbind: "end",
      "getLoginCode: ledger record": "commit",
      "password register": 3,
    };
    const paths = full ? PATHS : PATHS.filter((p) => p.name in reduced);
    const rows: string[] = [];
    let runs = 0;
    let kills = 0;
    let replays = 0;
    const failures: string[] = [];
    const attempt = async (wp: WritePath, step: number | "end" | "commit"): Promise<boolean> => {
      const { died, problems } = await crashRun(wp, step, runs++);
      failures.push(...problems.map((p) => `${wp.name} @${step}: ${p}`));
      if (died) kills++;
      if (wp.replay) replays++;
      return died;
    };
    for (const wp of paths) {
      const steps: Array<number | "end" | "commit"> = [];
      if (!full) {
        if (!(await attempt(wp, reduced[wp.name]!))) failures.push(`${wp.name} @${reduced[wp.name]}: the crash point was never reached`);
        rows.push(`${wp.name} (${wp.unit} @${reduced[wp.name]})`);
        continue;
      }
      // Statement boundaries until a run goes through without meeting the crash point.
      for (let step = 1; step <= 20 && (await attempt(wp, step)); step++) steps.push(step);
      for (const step of ["end", "commit"] as const) {
        if (!(await attempt(wp, step))) failures.push(`${wp.name} @${step}: the crash point was never reached`);
      }
      rows.push(`${wp.name} (${wp.unit}: ${steps.length} before-statement points + end + commit)`);
    }
    recordFigures("crash", [
      {
        part: "crash at every write",
        tried: `${kills} SIGKILLs in ${runs} runs of jit serve over ${paths.length} write paths, at each statement boundary, after the last statement and after the COMMIT: ${rows.join(", ")}; ${replays} restarts on the crashed database sending the same wx.login code again (ledger paths)`,
        held: `${failures.length} problems (integrity_check ok, no foreign key or orphan row, every answered change present, every code spent exactly when its effect is there, a login code and its ledger answer in the same commit, one login code at most per wx.login code and no 5xx after a restart, password register, failure count and password change all or nothing)`,
        ok: failures.length === 0,
      },
    ]);
    expect(failures).toEqual([]);
    expect(kills).toBeGreaterThanOrEqual(paths.length);
  });

  it("arms a crash point only under NODE_ENV=test: the variable alone never crashes a server", () => {
    expect(crashPointFrom({ JIT_TEST_CRASH_AT: "redeemBindCode:1" })).toBeNull();
    expect(crashPointFrom({ NODE_ENV: "production", JIT_TEST_CRASH_AT: "redeemBindCode:1" })).toBeNull();
    expect(crashPointFrom({ NODE_ENV: "test", JIT_TEST_CRASH_AT: "redeemBindCode:2" })).toEqual({ unit: "redeemBindCode", step: 2 });
    expect(crashPointFrom({ NODE_ENV: "test", JIT_TEST_CRASH_AT: "deleteSession:commit" })).toEqual({ unit: "deleteSession", step: "commit" });
    expect(() => crashPointFrom({ NODE_ENV: "test", JIT_TEST_CRASH_AT: "nonsense" })).toThrow(/JIT_TEST_CRASH_AT/);
  });
});
