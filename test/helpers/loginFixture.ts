import { randomBytes } from "node:crypto";
import { mkdtemp, mkdir, rm, symlink, writeFile } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { Writable } from "node:stream";
import { fileURLToPath } from "node:url";
import { loadApp } from "../../runtime/app/loadApp.ts";
import type { App } from "../../runtime/app/App.ts";
import { ManualClock } from "../../runtime/clock.ts";
import { createLogger } from "../../runtime/logging/logger.ts";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import type { WeChatMiniLogin } from "../../elements/auths/loginTypes/WeChatMiniType/index.ts";
import type { PasswordLogin } from "../../elements/auths/loginTypes/PasswordType/index.ts";
import type { AuthService } from "../../elements/auths/loginTypes/services/AuthSvc/index.ts";
import type { ContractSubject } from "../login.contract.ts";
import { storeOf } from "../../elements/auths/storage/storeOf.ts";

export const REPO_ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../..");
export const AUTH_SVC = "auths.loginTypes.services.AuthSvc";
export const TEST_APP_ID = "logintest";

/** One WeChatMiniType instance of the test app (auths.loginTypes.<name>). */
export interface MiniInstanceSpec {
  name: string;
  appId?: string;
  appSecret?: string;
  allowRegister?: 0 | 1;
  registerCorpId?: string;
  registerCorpName?: string;
  isActive?: boolean;
}

export type MiniInstance = Required<Pick<MiniInstanceSpec, "name" | "appId" | "appSecret" | "allowRegister">> & MiniInstanceSpec & { fullName: string };

/** One PasswordType instance of the test app (auths.loginTypes.<name>). */
export interface PasswordInstanceSpec {
  name: string;
  allowRegister?: 0 | 1;
  isActive?: boolean;
  registerCorpId?: string;
  /** Cheap by default (N = 2^10): tests hash hundreds of passwords. */
  scrypt?: { ln: number; r: number; p: number };
}

export const TEST_SCRYPT = { ln: 10, r: 8, p: 1 };

export interface LoginFixtureOptions extends Omit<MiniInstanceSpec, "name"> {
  /** Several instances (e.g. two AppIDs for unionId); default: one "testMiniLogin" built from the other options. */
  instances?: MiniInstanceSpec[];
  /** PasswordType instances beside them. */
  passwords?: PasswordInstanceSpec[];
  /** The database (a postgres:// URL, say) instead of a SQLite file in the temp root. */
  db?: string;
}

export interface LoginFixture {
  app: App;
  fake: FakeWeChatServer;
  clock: ManualClock;
  root: string;
  dbFile: string;
  /** JIT_MASTER_KEY and WECHAT_API_BASE, as passed to loadApp (also for a child `jit`). */
  env: Record<string, string>;
  instances: MiniInstance[];
  /** Every log line written so far. */
  logs(): string;
  /** The login element of an instance (default: the first). */
  login(name?: string): WeChatMiniLogin;
  /** A PasswordType instance (default: the first of `passwords`). */
  password(name?: string): PasswordLogin;
  authSvc(): AuthService;
  /** Another App on the same root and database file (a second connection, like a CLI beside a server). */
  openSecondApp(): Promise<App>;
  /** Mints a wx.login code on the fake for an instance's AppID. */
  mint(openId: string, options?: { unionId?: string | null; sessionKey?: string; instance?: string }): string;
  cleanup(): Promise<void>;
}

/**
 * A temp root with the repo's platform `elements/` (symlinked) and the given files, each a
 * path relative to the root → JSON value. Returns the root; remove it with `rm`.
 */
export async function makeTempRoot(files: Record<string, unknown>): Promise<string> {
  const root = await mkdtemp(path.join(os.tmpdir(), "jit-login-"));
  await symlink(path.join(REPO_ROOT, "elements"), path.join(root, "elements"), "dir");
  for (const [rel, value] of Object.entries(files)) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, typeof value === "string" ? value : JSON.stringify(value, null, 2));
  }
  return root;
}

export function randomAppId(): string {
  return `wx${randomBytes(8).toString("hex")}`;
}

function instanceOf(spec: MiniInstanceSpec): MiniInstance {
  return {
    ...spec,
    appId: spec.appId ?? randomAppId(),
    appSecret: spec.appSecret ?? `test-secret-${randomBytes(12).toString("hex")}`,
    allowRegister: spec.allowRegister ?? 1,
    fullName: `auths.loginTypes.${spec.name}`,
  };
}

async function writeInstance(root: string, inst: MiniInstance): Promise<void> {
  const dir = path.join(root, "apps", TEST_APP_ID, "elements", "auths", "loginTypes", inst.name);
  await mkdir(dir, { recursive: true });
  const eJson = {
    type: "auths.loginTypes.WeChatMiniType",
    title: `test ${inst.name}`,
    allowRegister: inst.allowRegister,
    backendBundleEntry: ".",
    frontBundleEntry: `./${inst.name}.json`,
  };
  const authConfig: Record<string, unknown> = { appId: inst.appId, appSecret: inst.appSecret };
  if (inst.registerCorpId !== undefined) authConfig.registerCorpId = inst.registerCorpId;
  if (inst.registerCorpName !== undefined) authConfig.registerCorpName = inst.registerCorpName;
  const business: Record<string, unknown> = { authConfig };
  if (inst.isActive !== undefined) business.isActive = inst.isActive;
  await writeFile(path.join(dir, "e.json"), JSON.stringify(eJson, null, 2));
  await writeFile(path.join(dir, `${inst.name}.json`), JSON.stringify(business, null, 2));
}

async function writePasswordInstance(root: string, spec: PasswordInstanceSpec): Promise<void> {
  const dir = path.join(root, "apps", TEST_APP_ID, "elements", "auths", "loginTypes", spec.name);
  await mkdir(dir, { recursive: true });
  const eJson = { type: "auths.loginTypes.PasswordType", title: `test ${spec.name}`, allowRegister: spec.allowRegister ?? 1, backendBundleEntry: ".", frontBundleEntry: `./${spec.name}.json` };
  const authConfig: Record<string, unknown> = { scrypt: spec.scrypt ?? TEST_SCRYPT };
  if (spec.registerCorpId !== undefined) authConfig.registerCorpId = spec.registerCorpId;
  const business: Record<string, unknown> = { authConfig };
  if (spec.isActive !== undefined) business.isActive = spec.isActive;
  await writeFile(path.join(dir, "e.json"), JSON.stringify(eJson, null, 2));
  await writeFile(path.join(dir, `${spec.name}.json`), JSON.stringify(business, null, 2));
}

/**
 * A temp root whose platform layer is the repo's real `elements/` (symlinked, so element
 * code resolves to the repo's modules) plus a test app with WeChatMiniType instances; a real
 * SQLite file; a real fake WeChat server on 127.0.0.1; a manual clock; logs captured.
 */
export async function makeLoginApp(options: LoginFixtureOptions = {}): Promise<LoginFixture> {
  const { instances: specs, passwords = [], db, ...single } = options;
  const instances = (specs ?? [{ name: "testMiniLogin", ...single }]).map(instanceOf);
  const root = await mkdtemp(path.join(os.tmpdir(), "jit-login-"));
  const clock = new ManualClock();
  const fake = await startFakeWeChatServer({ apps: instances.map(({ appId, appSecret }) => ({ appId, appSecret })) });
  let logText = "";
  const sink = new Writable({
    write(chunk: Buffer | string, _enc, done) {
      logText += chunk.toString();
      done();
    },
  });
  try {
    await symlink(path.join(REPO_ROOT, "elements"), path.join(root, "elements"), "dir");
    await mkdir(path.join(root, "apps", TEST_APP_ID), { recursive: true });
    await writeFile(
      path.join(root, "apps", TEST_APP_ID, "app.json"),
      JSON.stringify({ appId: TEST_APP_ID, title: "login test", version: "0.0.0", extends: [] }),
    );
    for (const inst of instances) await writeInstance(root, inst);
    for (const spec of passwords) await writePasswordInstance(root, spec);
    const env = { JIT_MASTER_KEY: randomBytes(32).toString("hex"), WECHAT_API_BASE: fake.url };
    const dbFile = db ?? path.join(root, "data", "login.sqlite");
    const load = () => loadApp({ root, appId: TEST_APP_ID, dbFile, clock, env, logger: createLogger({ level: "debug", destination: sink }) });
    const app = await load();
    const extraApps: App[] = [];
    const byName = (name?: string) => {
      const inst = name ? instances.find((i) => i.name === name) : instances[0];
      if (!inst) throw new Error(`no test instance ${name}`);
      return inst;
    };
    return {
      app,
      fake,
      clock,
      root,
      dbFile,
      env,
      instances,
      logs: () => logText,
      login: (name) => app.getElement<WeChatMiniLogin>(byName(name).fullName),
      password: (name) => {
        const spec = name ? passwords.find((p) => p.name === name) : passwords[0];
        if (!spec) throw new Error(`no password instance ${name}`);
        return app.getElement<PasswordLogin>(`auths.loginTypes.${spec.name}`);
      },
      authSvc: () => app.getElement<AuthService>(AUTH_SVC),
      openSecondApp: async () => {
        const second = await load();
        extraApps.push(second);
        return second;
      },
      mint: (openId, opts = {}) =>
        fake.mintCode({ appId: byName(opts.instance).appId, openId, unionId: opts.unionId ?? null, ...(opts.sessionKey ? { sessionKey: opts.sessionKey } : {}) }),
      cleanup: async () => {
        for (const extra of extraApps) await extra.close();
        await app.close();
        await fake.close();
        await rm(root, { recursive: true, force: true });
      },
    };
  } catch (err) {
    await fake.close();
    await rm(root, { recursive: true, force: true });
    throw err;
  }
}

/** A login-contract subject (test/login.contract.ts) on a fixture; `cleanup` runs after the fixture's own. */
export function loginContractSubject(fx: LoginFixture, cleanup?: () => Promise<void>): ContractSubject & { login: WeChatMiniLogin; codeFor(who: string): string } {
  const login = fx.login();
  const codeFor = (who: string) => fx.mint(`openid-${who}`);
  return {
    login,
    authSvc: fx.authSvc(),
    clock: fx.clock,
    codeFor,
    secrets: [fx.instances[0]!.appSecret],
    createUser: async () => (await (await storeOf(fx.app)).createUser({ name: null }, fx.clock.now())).userId,
    register: async (who) => {
      const first = await login.getLoginCode(codeFor(who));
      if (!("bindCode" in first)) throw new Error(`${who} is registered already`);
      return (await login.register(first.bindCode)).toJSON();
    },
    logIn: (who) => login.getLoginCode(codeFor(who)),
    bind: (userId, who) => login.bind(userId, codeFor(who)),
    badCalls: () => ({
      calls: [login.getLoginCode(""), login.getLoginCode("x".repeat(257)), login.register(42 as unknown as string), login.bind(0, "code"), login.unbind(1.5)],
      named: [login.bind(-1, "c"), /argument userId of bind/],
    }),
    errors: { unregistered: "USER_AUTH_MISS", registrationClosed: "USER_AUTH_MISS", userBound: "ALREADY_BOUND", identityTaken: "WECHAT_ALREADY_BOUND", notBound: "NOT_BOUND" },
    cleanup: async () => {
      await fx.cleanup();
      await cleanup?.();
    },
  };
}

/** The password each contract identity `who` uses. */
export const contractPasswordOf = (who: string) => `pw of ${who}, not common`;

/** The login contract's subject for the fixture's first PasswordType instance: a username and password per identity. */
export function passwordContractSubject(fx: LoginFixture, cleanup?: () => Promise<void>): ContractSubject {
  const login = fx.password();
  return {
    login,
    authSvc: fx.authSvc(),
    clock: fx.clock,
    secrets: [contractPasswordOf("alice")],
    createUser: async () => (await (await storeOf(fx.app)).createUser({ name: null }, fx.clock.now())).userId,
    register: async (who) => (await login.register(who, contractPasswordOf(who))).toJSON(),
    logIn: (who) => login.getLoginCode(who, contractPasswordOf(who)),
    bind: (userId, who) => login.bind(userId, who, contractPasswordOf(who)),
    badCalls: () => ({
      calls: [
        login.getLoginCode("", "x"),
        login.getLoginCode("ab", "some password"),
        login.getLoginCode("with blank", "some password"),
        login.getLoginCode("alice", ""),
        login.register(42 as unknown as string, "some password"),
        login.bind(0, "alice", "some password"),
      ],
      named: [login.getLoginCode("", "x"), /argument username of getLoginCode/],
    }),
    errors: { unregistered: "CREDENTIALS_INVALID", registrationClosed: "REGISTRATION_CLOSED", userBound: "PASSWORD_ALREADY_SET", identityTaken: "USERNAME_TAKEN", notBound: "PASSWORD_NOT_SET" },
    cleanup: async () => {
      await fx.cleanup();
      await cleanup?.();
    },
  };
}
