import { copyFile, mkdir } from "node:fs/promises";
import path from "node:path";
import Database from "better-sqlite3";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { hashToken } from "../../runtime/security/tokens.ts";
import { crashPointFrom } from "../../runtime/storage/sqlite/crashPoints.ts";
import { AUTH, DEMO_APPID, LOGIN, TEST_MASTER_KEY, makeTempRoot, post, removeDir, startStack, type Reply, type Stack } from "../helpers/http.ts";
import { JIT_BIN, startChild } from "../helpers/httpChild.ts";
import { recordFigures } from "./figures.ts";
import { SCALE } from "./scale.ts";

// Crash at every write: for each write path, `jit serve` is killed with SIGKILL at each
// statement boundary of its write unit (the test-only hook of runtime/storage/sqlite/
// crashPoints.ts: before each statement, after the last one, after the COMMIT), on a copy
// of one prepared database. After the crash the database passes integrity_check and
// foreign_key_check, has no orphan rows, holds every change that was answered 200, and
// every single-use code is spent exactly when its effect is there (so it cannot be used twice,
// nor be lost spent without its effect).

interface Prepared {
  bindCode: string;
  loginCode: string;
  u1: number;
  t1: string;
  u2: number;
  t2: string;
}

interface Ctx {
  base: string;
  prepared: Prepared;
  code(openId: string): string;
}

interface WritePath {
  name: string;
  unit: string;
  /** The request that reaches the unit (null: the unit runs at start-up). */
  op: ((base: string, ctx: Ctx) => Promise<Reply>) | null;
  /** What must hold in the database after the crash, given the answer if one came. */
  check(db: Database.Database, ctx: Ctx, answer: Reply | null): string[];
}

const count = (db: Database.Database, sql: string, ...args: unknown[]) => (db.prepare(sql).get(...args) as { n: number }).n;
const EXPIRED = "crash-expired";

const PATHS: WritePath[] = [
  {
    name: "register",
    unit: "redeemBindCode",
    op: (base, { prepared }) => post(base, `${LOGIN}/register`, { bindCode: prepared.bindCode }),
    check(db, { prepared }, answer) {
      const spent = count(db, "SELECT COUNT(*) n FROM bind_codes WHERE code_hash = ? AND used_at IS NOT NULL", hashToken(prepared.bindCode)) === 1;
      const bound = count(db, "SELECT COUNT(*) n FROM wechat_mini_bindings WHERE open_id = 'crash-new'") === 1;
      const problems: string[] = [];
      if (spent !== bound) problems.push(`bind code spent=${spent} but binding present=${bound}`);
      if (answer?.status === 200 && !bound) problems.push("acknowledged registration missing");
      if (bound && count(db, "SELECT COUNT(*) n FROM login_codes l JOIN wechat_mini_bindings b ON b.user_id = l.user_id WHERE b.open_id = 'crash-new'") !== 1) problems.push("registration without its login code");
      return problems;
    },
  },
  {
    name: "getLoginCode: session key",
    unit: "putSessionKey",
    op: (base, ctx) => post(base, `${LOGIN}/getLoginCode`, { code: ctx.code("crash-u1") }),
    check: (db, _ctx, answer) => (answer?.status === 200 && count(db, "SELECT COUNT(*) n FROM login_codes WHERE code_hash = ?", hashToken(answer.body.data.loginCode)) !== 1 ? ["acknowledged login code missing"] : []),
  },
  {
    name: "getLoginCode: login code",
    unit: "saveLoginCode",
    op: (base, ctx) => post(base, `${LOGIN}/getLoginCode`, { code: ctx.code("crash-u1") }),
    check: (db, _ctx, answer) => (answer?.status === 200 && count(db, "SELECT COUNT(*) n FROM login_codes WHERE code_hash = ?", hashToken(answer.body.data.loginCode)) !== 1 ? ["acknowledged login code missing"] : []),
  },
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
    check: (db, { prepared }, answer) => (answer?.status === 200 && count(db, "SELECT COUNT(*) n FROM wechat_mini_bindings WHERE user_id = ?", prepared.u2) !== 1 ? ["acknowledged bind missing"] : []),
  },
  {
    name: "unbind",
    unit: "deleteBinding",
    op: (base, { prepared }) => post(base, `${LOGIN}/unbind`, { userId: prepared.u1 }, { token: prepared.t1 }),
    check(db, { prepared }, answer) {
      const bound = count(db, "SELECT COUNT(*) n FROM wechat_mini_bindings WHERE user_id = ?", prepared.u1) === 1;
      const marked = count(db, "SELECT COUNT(*) n FROM wechat_mini_unbound WHERE open_id = 'crash-u1'") === 1;
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

/** Problems any crash must not leave: damage, and rows whose owner is gone. */
function structuralProblems(db: Database.Database, usersWithoutBinding: number): string[] {
  const problems: string[] = [];
  const integrity = db.pragma("integrity_check", { simple: true });
  if (integrity !== "ok") problems.push(`integrity_check: ${String(integrity)}`);
  if ((db.pragma("foreign_key_check") as unknown[]).length > 0) problems.push("foreign_key_check failed");
  const orphans = count(db, "SELECT COUNT(*) n FROM users u WHERE NOT EXISTS (SELECT 1 FROM wechat_mini_bindings b WHERE b.user_id = u.user_id)");
  if (orphans !== usersWithoutBinding) problems.push(`${orphans - usersWithoutBinding} users without their binding`);
  return problems;
}

describe("crash at every write", () => {
  let stack: Stack;
  let root: string;
  let baseDb: string;
  let prepared: Prepared;
  let usersWithoutBinding = 0;

  beforeAll(async () => {
    // One database prepared through the real flows: a pending bind code, a registered user
    // with an unused login code and a session, a user to bind with a session opened elsewhere,
    // and expired rows for the purge.
    stack = await startStack({ keepLogs: false });
    const first = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("crash-new") });
    const u1 = await stack.register("crash-u1");
    const { token: t1 } = await stack.login("crash-u1");
    const again = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("crash-u1") });
    const store = await stack.app.getStore();
    const u2 = (await store.createUser({ name: "crash-u2" }, Date.now())).userId;
    const t2 = await stack.signInElsewhere(u2);
    const past = Date.now() - 86_400_000;
    await store.saveBindCode(hashToken("expired-bind"), { appId: DEMO_APPID, openId: EXPIRED, unionId: null, expiresAt: past }, past);
    await store.saveLoginCode(hashToken("expired-login"), { appId: DEMO_APPID, userId: u1, expiresAt: past, origin: { loginType: "auths.loginTypes.myWeChatMiniLogin", appId: DEMO_APPID, openId: EXPIRED } }, past);
    prepared = { bindCode: first.body.data.bindCode, loginCode: again.body.data.loginCode, u1, t1, u2, t2 };
    usersWithoutBinding = 1; // u2
    await stack.server.close();
    await stack.app.close();
    root = await makeTempRoot();
    await mkdir(path.join(root, "data"), { recursive: true });
    baseDb = path.join(root, "data", "base.sqlite");
    await copyFile(stack.dbFile, baseDb);
  });
  afterAll(async () => {
    await stack?.fake.close();
    await removeDir(stack?.root ?? "");
    await removeDir(root ?? "");
  });

  /** One crash run: a fresh copy of the prepared database, `jit serve` armed at unit:step. */
  async function crashRun(wp: WritePath, step: number | "end" | "commit", n: number): Promise<{ died: boolean; problems: string[] }> {
    const dbFile = path.join(root, "data", `run-${n}.sqlite`);
    await copyFile(baseDb, dbFile);
    const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", dbFile, "--purge-interval", "0"], {
      WECHAT_API_BASE: stack.fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_RATE_LIMIT_IP: "off",
      JIT_RATE_LIMIT_OPENID: "off",
      JIT_RATE_LIMIT_USER: "off",
      NODE_ENV: "test",
      JIT_TEST_CRASH_AT: `${wp.unit}:${step}`,
    });
    let answer: Reply | null = null;
    try {
      if (wp.op) {
        const listening = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/).catch(() => null);
        if (!listening) throw new Error(`${wp.name}: jit serve did not start: ${child.stderr().slice(-500)}`);
        answer = await wp.op(listening[1]!, { base: listening[1]!, prepared, code: stack.code }).catch(() => null);
      }
      const died = await Promise.race([child.exited.then((e) => e.signal === "SIGKILL"), new Promise<boolean>((r) => setTimeout(() => r(false), wp.op ? 1_500 : 8_000))]);
      child.kill("SIGKILL");
      await child.exited;
      const db = new Database(dbFile);
      try {
        // An unbind that took place leaves u1 without a binding, and a bind gives u2 one, as they should.
        const bound = (userId: number) => count(db, "SELECT COUNT(*) n FROM wechat_mini_bindings WHERE user_id = ?", userId) === 1;
        const expected = usersWithoutBinding + (bound(prepared.u1) ? 0 : 1) - (bound(prepared.u2) ? 1 : 0);
        return { died, problems: [...structuralProblems(db, expected), ...wp.check(db, { base: "", prepared, code: stack.code }, answer)] };
      } finally {
        db.close();
      }
    } finally {
      child.kill("SIGKILL");
    }
  }

  it("leaves a sound database after SIGKILL at every statement boundary of every write path", { timeout: 900_000 }, async () => {
    // The full run tries every boundary of every path; the reduced one (npm test) three
    // boundaries: a statement, after the last statement, after the COMMIT.
    const full = SCALE >= 1;
    const reduced: Record<string, number | "end" | "commit"> = { register: 1, loginByCode: "commit", unbind: "end" };
    const paths = full ? PATHS : PATHS.filter((p) => p.name in reduced);
    const rows: string[] = [];
    let runs = 0;
    let kills = 0;
    const failures: string[] = [];
    const attempt = async (wp: WritePath, step: number | "end" | "commit"): Promise<boolean> => {
      const { died, problems } = await crashRun(wp, step, runs++);
      failures.push(...problems.map((p) => `${wp.name} @${step}: ${p}`));
      if (died) kills++;
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
        tried: `${kills} SIGKILLs in ${runs} runs of jit serve over ${paths.length} write paths, at each statement boundary, after the last statement and after the COMMIT: ${rows.join(", ")}`,
        held: `${failures.length} problems (integrity_check ok, no foreign key or orphan row, every answered change present, every code spent exactly when its effect is there)`,
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
