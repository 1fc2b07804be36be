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
import type { AuthService } from "../../elements/auths/loginTypes/services/AuthSvc/index.ts";
import type { ContractSubject } from "../login.contract.ts";

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

export interface LoginFixtureOptions extends Omit<MiniInstanceSpec, "name"> {
  /** Several instances (e.g. two AppIDs for unionId); default: one "testMiniLogin" built from the other options. */
  instances?: MiniInstanceSpec[];
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

/**
 * A temp root whose platform layer is the repo's real `elements/` (symlinked, so element
 * code resolves to the repo's modules) plus a test app with WeChatMiniType instances; a real
 * SQLite file; a real fake WeChat server on 127.0.0.1; a manual clock; logs captured.
 */
export async function makeLoginApp(options: LoginFixtureOptions = {}): Promise<LoginFixture> {
  const { instances: specs, db, ...single } = options;
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
export function loginContractSubject(fx: LoginFixture, cleanup?: () => Promise<void>): ContractSubject {
  return {
    login: fx.login(),
    authSvc: fx.authSvc(),
    clock: fx.clock,
    codeFor: (who) => fx.mint(`openid-${who}`),
    secrets: [fx.instances[0]!.appSecret],
    createUser: async () => (await (await fx.app.getStore()).createUser({ name: null }, fx.clock.now())).userId,
    cleanup: async () => {
      await fx.cleanup();
      await cleanup?.();
    },
  };
}
