import { execFile } from "node:child_process";
import fs from "node:fs/promises";
import path from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { createAccessTokenSeal, createSessionKeyVault } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";
import { verifyPassword } from "../elements/auths/loginTypes/PasswordType/passwordHash.ts";
import { openPostgresStore } from "../elements/auths/storage/postgres/index.ts";
import { LATEST_VERSION, openSqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import type { Store } from "../elements/auths/storage/Store.ts";
import { hashToken } from "../runtime/security/tokens.ts";
import { LoginError } from "../elements/auths/loginTypes/Meta/errors.ts";
import { createTestDatabase, describePg, type TestDatabase } from "./helpers/pgTest.ts";
import { AUTH, makeTempRoot, post, removeDir } from "./helpers/http.ts";
import { JIT_BIN, startChild } from "./helpers/httpChild.ts";
import { storeTempDir } from "./helpers/storeTemp.ts";

/**
 * Upgrades lose nothing: a database written by the runtime of commit 2369789 (before the
 * migration ledger and the identities table; test/fixtures/upgrade/README.md says what it
 * holds) is migrated in place at the first open, and every row it held still works. A process
 * killed in the middle of the upgrade leaves the old schema, and the next start finishes.
 */

const REPO_ROOT = fileURLToPath(new URL("..", import.meta.url));
const FIXTURES = path.join(REPO_ROOT, "test/fixtures/upgrade");
const MASTER_KEY = Buffer.alloc(32, 7);
const T0 = Date.UTC(2026, 11, 1);
const NOW = T0 + 100;
const APP = "wx0123456789abcdef";
const REALM = `password:${APP}`;
const WX_TYPE = "auths.loginTypes.myWeChatMiniLogin";

/** Every kind of row the fixture holds, read and used through the new store. */
async function expectEverythingKept(store: Store): Promise<void> {
  // users, phone numbers, organisations
  expect(await store.getUser(1)).toEqual({ userId: 1, name: "Alice", createdAt: T0, phone: "+8613800000001" });
  expect(await store.getUser(4)).toMatchObject({ userId: 4, name: "Dave" });
  expect(await store.findUserIdByPhone("+8613800000001")).toBe(1);
  expect(await store.listUserCorps(1)).toEqual([{ corpId: "corp-a", corpName: "Corp A" }]);
  expect(await store.listUserCorps(3)).toEqual([{ corpId: "corp-a", corpName: "Corp A" }]);
  // WeChat bindings and unionIds, and the unbound mark
  expect(await store.findBindingByOpenId(APP, "openid-alice")).toEqual({ appId: APP, openId: "openid-alice", unionId: "union-alice", userId: 1, createdAt: T0 + 1 });
  expect(await store.findBindingByUser("wx2222222222222222", 4)).toMatchObject({ openId: "openid-dave", unionId: "union-dave" });
  expect(await store.findUserIdByUnionId("union-alice")).toBe(1);
  expect(await store.findUserIdByUnionId("union-dave")).toBe(4);
  expect(await store.findBindingByOpenId(APP, "openid-bob")).toBeNull();
  expect(await store.wasUnbound(APP, "openid-bob")).toBe(true);
  // password credentials: the hash still verifies the password
  const carol = await store.findPasswordCredential(REALM, "carol");
  expect(carol).toMatchObject({ realm: REALM, username: "carol", userId: 3 });
  expect(await verifyPassword("correct horse battery staple", carol!.passwordHash)).toBe(true);
  expect(await store.findPasswordCredentialByUser(REALM, 4)).toMatchObject({ username: "dave" });
  // live sessions log in
  expect(await store.getSession(hashToken("session-token-alice"), NOW)).toMatchObject({
    userId: 1,
    corpId: "corp-a",
    origin: { loginType: WX_TYPE, appId: APP, openId: "openid-alice" },
  });
  expect(await store.getSession(hashToken("session-token-carol"), NOW)).toMatchObject({ userId: 3, origin: { appId: REALM, openId: "carol" } });
  // sealed session key and access token open with the master key
  const vault = createSessionKeyVault({ masterKey: MASTER_KEY, store });
  expect(await vault.get(APP, "openid-alice")).toBe("c2Vzc2lvbi1rZXktYWxpY2U=");
  const token = await store.getAccessToken(APP);
  expect(createAccessTokenSeal(MASTER_KEY).open(APP, token!.sealed!)).toBe("access-token-value");
  // a failure lock still counts
  expect((await store.loginFailureState([hashToken("failure-key")], NOW)).failing).toEqual([hashToken("failure-key")]);
  // pending codes redeem once; a spent one stays spent
  const redeemed = await store.redeemLoginCode(hashToken("login-code-alice"), NOW, { tokenHash: hashToken("new-session"), expiresAt: NOW + 60_000 });
  expect(redeemed).toMatchObject({ status: "ok", session: { userId: 1, origin: { openId: "openid-alice" } } });
  expect(await store.redeemLoginCode(hashToken("login-code-alice"), NOW, { tokenHash: hashToken("again"), expiresAt: NOW + 60_000 })).toEqual({ status: "invalid" });
  expect(await store.consumeCode("login", hashToken("login-code-carol"), NOW)).toMatchObject({ status: "ok", record: { userId: 3 } });
  expect(await store.consumeCode("login", hashToken("login-code-spent"), NOW)).toEqual({ status: "invalid" });
  const erin = await store.redeemBindCode(hashToken("bind-code-erin"), NOW, { appId: APP, name: "Erin" });
  expect(erin).toMatchObject({ status: "ok", binding: { openId: "openid-erin", unionId: "union-erin" } });
  // the unique rules hold on the new table, reported by name
  await expect(store.createBinding({ appId: APP, openId: "openid-alice", unionId: null, userId: 3 }, NOW)).rejects.toMatchObject({ code: "WECHAT_ALREADY_BOUND" });
  await expect(store.createBinding({ appId: APP, openId: "openid-other", unionId: null, userId: 1 }, NOW)).rejects.toMatchObject({ code: "ALREADY_BOUND" });
  const taken = await store
    .registerPasswordUser({ realm: REALM, username: "carol", passwordHash: "$scrypt$x", loginCode: { hash: hashToken("lc-x"), expiresAt: NOW + 1, loginType: "t" } }, NOW)
    .catch((e: unknown) => e);
  expect(taken).toBeInstanceOf(LoginError);
  expect(taken).toMatchObject({ code: "USERNAME_TAKEN" });
  // unbinding an upgraded identity ends its upgraded session and voids nothing else
  expect(await store.deleteBinding(APP, 1, NOW)).toBe(true);
  expect(await store.getSession(hashToken("session-token-alice"), NOW)).toBeNull();
  expect(await store.getSession(hashToken("session-token-carol"), NOW)).not.toBeNull();
}

/** A script that opens the store at `location` (a child process, so it can be killed). */
async function openInChild(dir: string, location: string, env: Record<string, string>): Promise<{ code: number | null; signal: string | null; stderr: string }> {
  const script = [
    `import { openStore } from ${JSON.stringify(path.join(REPO_ROOT, "elements/auths/storage/openStore.ts"))};`,
    `const store = await openStore(${JSON.stringify(location)});`,
    `await store.close();`,
    `console.log("opened");`,
  ].join("\n");
  const scriptFile = path.join(dir, `open-${Date.now()}.mts`);
  await fs.writeFile(scriptFile, script);
  return new Promise((resolve) => {
    execFile(process.execPath, [path.join(REPO_ROOT, "cli/run-ts.js"), scriptFile], { cwd: REPO_ROOT, timeout: 30_000, env: { ...process.env, ...env } }, (error, _stdout, stderr) =>
      resolve({ code: error ? (typeof error.code === "number" ? error.code : null) : 0, signal: error?.signal ?? null, stderr }),
    );
  });
}

describe("upgrade from the runtime of 2369789: SQLite", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  async function fixtureCopy(): Promise<{ dir: string; file: string }> {
    const t = await storeTempDir();
    cleanups.push(t.remove);
    const file = path.join(t.dir, "app.sqlite");
    await fs.copyFile(path.join(FIXTURES, "main-2369789.sqlite"), file);
    await fs.chmod(file, 0o600);
    return { dir: t.dir, file };
  }

  it("migrates the file in place at the first open; every row is kept and works", async () => {
    const { file } = await fixtureCopy();
    const store = await openSqliteStore({ file });
    cleanups.push(() => store.close());
    expect(store.settings().schemaVersion).toBe(LATEST_VERSION);
    await expectEverythingKept(store);
    const raw = new Database(file, { readonly: true });
    cleanups.push(async () => void raw.close());
    const tables = (raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    expect(tables).toContain("identities");
    expect(tables).not.toContain("wechat_mini_bindings");
    expect(tables).not.toContain("password_credentials");
    // The runtime of 2369789 reads only user_version: past its 9 it refuses the file.
    expect(raw.pragma("user_version", { simple: true })).toBe(10);
    const ledger = raw.prepare("SELECT version, name FROM jit_migrations WHERE owner = 'auths' ORDER BY version").all() as { version: number; name: string }[];
    expect(ledger.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
    expect(ledger.filter((r) => r.name.endsWith("(adopted)")).length).toBe(9);
  });

  it("jit serve on the upgraded file: the old session token is the user's, the pending login code opens a session", async () => {
    const { file } = await fixtureCopy();
    const root = await makeTempRoot();
    cleanups.push(() => removeDir(root));
    const child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--db", file], { JIT_MASTER_KEY: MASTER_KEY.toString("hex") });
    cleanups.push(async () => void child.kill("SIGKILL"));
    const [, base] = (await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/)) as unknown as [string, string];
    const me = await post(base, `${AUTH}/getCurrentUser`, undefined, { token: "session-token-alice" });
    expect([me.status, me.body.data]).toMatchObject([200, { userId: 1 }]);
    const opened = await post(base, `${AUTH}/loginByCode`, { loginCode: "login-code-carol" });
    expect(opened.status).toBe(200);
    const carol = await post(base, `${AUTH}/getCurrentUser`, undefined, { token: opened.body.data.token });
    expect([carol.status, carol.body.data]).toMatchObject([200, { userId: 3 }]);
    expect((await post(base, `${AUTH}/loginByCode`, { loginCode: "login-code-spent" })).body.error.code).toBe("LOGIN_CODE_INVALID");
  });

  it("refuses a database whose ledger is newer than the code, by a coded error, before changing anything", async () => {
    const { file } = await fixtureCopy();
    await (await openSqliteStore({ file })).close();
    const raw = new Database(file);
    raw.prepare("INSERT INTO jit_migrations (owner, version, name, applied_at) VALUES ('auths', ?, 'from the future', 0)").run(LATEST_VERSION + 1);
    raw.close();
    const err = await openSqliteStore({ file }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "STORE_MIGRATION_FAILED" });
    expect((err as Error).message).toMatch(/auths's schema is at version \d+, newer than this runtime knows/);
  });

  it("a kill -9 in the middle of the upgrade leaves the old schema; the next start finishes the job", async () => {
    const { dir, file } = await fixtureCopy();
    const killed = await openInChild(dir, file, { NODE_ENV: "test", JIT_TEST_CRASH_AT: "migrate:1" });
    expect(killed.signal).toBe("SIGKILL");
    const raw = new Database(file, { readonly: true });
    const tables = (raw.prepare("SELECT name FROM sqlite_schema WHERE type = 'table'").all() as { name: string }[]).map((r) => r.name);
    const version = raw.pragma("user_version", { simple: true });
    raw.close();
    // The old schema whole: the ledger table, the identities table and the dropped tables all rolled back together.
    expect(tables).toContain("wechat_mini_bindings");
    expect(tables).toContain("password_credentials");
    expect(tables).not.toContain("identities");
    expect(tables).not.toContain("jit_migrations");
    expect(version).toBe(9);
    expect(await openInChild(dir, file, { NODE_ENV: "test" })).toMatchObject({ code: 0 });
    const store = await openSqliteStore({ file });
    cleanups.push(() => store.close());
    await expectEverythingKept(store);
  });
});

describePg("upgrade from the runtime of 2369789: PostgreSQL", () => {
  const cleanups: Array<() => Promise<void>> = [];
  afterEach(async () => {
    for (const c of cleanups.splice(0).reverse()) await c();
  });

  /** A new database holding the fixture: pg_dump's plain SQL of a database the old store wrote. */
  async function fixtureDatabase(): Promise<TestDatabase> {
    const db = await createTestDatabase();
    cleanups.push(() => db.drop());
    const sql = await fs.readFile(path.join(FIXTURES, "main-2369789.postgres.sql"), "utf8");
    await db.session(null, async (c) => void (await c.query(sql)));
    return db;
  }

  it("migrates the schema in place at the first open; every row is kept and works", async () => {
    const db = await fixtureDatabase();
    const store = await openPostgresStore({ url: db.url() });
    cleanups.push(() => store.close());
    await expectEverythingKept(store);
    const tables = (await db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).map((r) => r.tablename);
    expect(tables).toContain("identities");
    expect(tables).not.toContain("wechat_mini_bindings");
    expect(tables).not.toContain("password_credentials");
    const ledger = await db.query<{ version: number }>("SELECT version FROM jit_migrations WHERE owner = 'auths' ORDER BY version");
    expect(ledger.map((r) => r.version)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9]);
    // The runtime of 2369789 reads only jit_schema_migrations: a version past its 8 makes it refuse.
    expect((await db.query<{ v: number }>("SELECT max(version) AS v FROM jit_schema_migrations"))[0]!.v).toBe(9);
  });

  it("a kill -9 in the middle of the upgrade leaves the old schema; the next start finishes the job", async () => {
    const db = await fixtureDatabase();
    const { dir, remove } = await storeTempDir();
    cleanups.push(remove);
    const killed = await openInChild(dir, db.url(), { NODE_ENV: "test", JIT_TEST_CRASH_AT: "migrate:1" });
    expect(killed.signal).toBe("SIGKILL");
    const tables = (await db.query<{ tablename: string }>("SELECT tablename FROM pg_tables WHERE schemaname = 'public'")).map((r) => r.tablename);
    expect(tables).toContain("wechat_mini_bindings");
    expect(tables).not.toContain("identities");
    expect(tables).not.toContain("jit_migrations");
    expect(await openInChild(dir, db.url(), { NODE_ENV: "test" })).toMatchObject({ code: 0 });
    const store = await openPostgresStore({ url: db.url() });
    cleanups.push(() => store.close());
    await expectEverythingKept(store);
  });

  it("two processes starting at once on the old database migrate it exactly once", async () => {
    const db = await fixtureDatabase();
    const { dir, remove } = await storeTempDir();
    cleanups.push(remove);
    const results = await Promise.all([openInChild(dir, db.url(), {}), openInChild(dir, db.url(), {})]);
    expect(results.map((r) => r.code)).toEqual([0, 0]);
    const ledger = await db.query<{ version: number; n: string }>("SELECT version, count(*)::int AS n FROM jit_migrations WHERE owner = 'auths' GROUP BY version ORDER BY version");
    expect(ledger.every((r) => Number(r.n) === 1)).toBe(true);
    expect(ledger.length).toBe(9);
  });
});
