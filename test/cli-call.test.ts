import { spawn } from "node:child_process";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { AUTH_SVC, makeLoginApp, REPO_ROOT, TEST_APP_ID, type LoginFixture } from "./helpers/loginFixture.ts";
import { errorOf, runJit } from "./helpers/cliRun.ts";
import { storeOf } from "../elements/auths/storage/storeOf.ts";

/** `jit call` as a child process against a real SQLite file and the fake WeChat server. */
describe("jit call", () => {
  let fx: LoginFixture;
  let call: (...args: string[]) => ReturnType<typeof runJit>;

  beforeAll(async () => {
    fx = await makeLoginApp({ allowRegister: 1, registerCorpId: "cli-corp", registerCorpName: "CLI Corp" });
    call = (...args) => runJit(["--root", fx.root, "--app", TEST_APP_ID, "call", ...args, "--db", fx.dbFile], fx.env);
  });
  afterAll(async () => {
    await fx.cleanup();
  });

  it("walks the seed's flow and prints each result as JSON on stdout", async () => {
    const login = fx.instances[0]!.fullName;
    const first = await call(login, "getLoginCode", fx.mint("o-cli"));
    expect(first.code).toBe(0);
    const bind = JSON.parse(first.stdout) as { bindCode: string; expiresIn: number };
    expect(bind).toEqual({ bindCode: expect.any(String), expiresIn: 300 });

    const reg = await call(login, "register", bind.bindCode, "--json");
    expect(reg.code).toBe(0);
    // --json: one line; the RowData serialises to the plain record.
    expect(reg.stdout.trim().split("\n")).toHaveLength(1);
    const user = JSON.parse(reg.stdout) as { userId: number; corpList: unknown };
    expect(user).toMatchObject({ userId: expect.any(Number), corpList: [{ corpId: "cli-corp", corpName: "CLI Corp" }] });

    const again = JSON.parse((await call(login, "getLoginCode", fx.mint("o-cli"))).stdout) as { loginCode: string; userId: number };
    expect(again).toMatchObject({ loginCode: expect.any(String), userId: user.userId });

    // Optional args may be omitted; "cli-corp" stays a string (not JSON).
    const session = await call(AUTH_SVC, "loginByCode", again.loginCode, "cli-corp");
    expect(session.code).toBe(0);
    const { token } = JSON.parse(session.stdout) as { token: string };
    // The CLI wrote to the same database file the in-process app reads.
    expect(await fx.authSvc().getCurrentUser(token)).toMatchObject({ userId: user.userId, corpId: "cli-corp" });

    // The caller's token can come from $JIT_TOKEN, which ps does not show (argv it does).
    const me = await runJit(["--root", fx.root, "--app", TEST_APP_ID, "call", AUTH_SVC, "getCurrentUser", "--db", fx.dbFile], { ...fx.env, JIT_TOKEN: token });
    expect(me.code).toBe(0);
    expect(JSON.parse(me.stdout)).toMatchObject({ userId: user.userId, corpId: "cli-corp" });
    expect(me.stdout + me.stderr).not.toContain(token);
  });

  it("parses JSON args and reports errors as JSON on stderr with exit 1", async () => {
    const store = await storeOf(fx.app);
    const u = await store.createUser({ name: "cli" }, fx.clock.now());
    const login = fx.instances[0]!.fullName;
    const [bound, missing, unknownFn, dashed] = await Promise.all([
      call(login, "bind", String(u.userId), fx.mint("o-cli-bind")),
      call(login, "unbind", "424242"),
      call(login, "decryptData", "1", "x", "y"),
      // base64url codes may start with "-": still an argument, not an option.
      call(AUTH_SVC, "loginByCode", "-Abc_def", "corp"),
    ]);
    expect(bound.code).toBe(0);
    expect(JSON.parse(bound.stdout)).toEqual({ success: true, userId: u.userId, openId: "o-cli-bind" });
    expect(missing.code).toBe(1);
    expect(missing.stdout).toBe("");
    expect(errorOf(missing.stderr)).toEqual({ code: "NOT_BOUND", message: expect.stringContaining("424242") });
    // decryptData is a method, but not in the functionList: not callable from outside.
    expect(errorOf(unknownFn.stderr)).toMatchObject({ code: "FUNCTION_NOT_FOUND" });
    expect(unknownFn.code).toBe(1);
    expect(errorOf(dashed.stderr)).toMatchObject({ code: "LOGIN_CODE_INVALID" });
    expect(dashed.code).toBe(1);
  });
});

describe("jit wechat-fake", () => {
  it("serves the demo app's mini program on 127.0.0.1, prints how to mint codes and no secret, stops on SIGTERM", async () => {
    const child = spawn(process.execPath, [path.join(REPO_ROOT, "cli", "bin.js"), "--root", REPO_ROOT, "--app", "demo", "wechat-fake", "--port", "0"], {
      cwd: REPO_ROOT,
      stdio: ["ignore", "pipe", "pipe"],
    });
    let out = "";
    let err = "";
    child.stderr.on("data", (d: Buffer) => (err += d.toString()));
    const exited = new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code)));
    try {
      await new Promise<void>((resolve, reject) => {
        child.stdout.on("data", (d: Buffer) => {
          out += d.toString();
          if (out.includes("stop with Ctrl-C")) resolve();
        });
        child.on("exit", () => reject(new Error(`wechat-fake exited early: ${err}`)));
      });
      const url = /WECHAT_API_BASE=(http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
      expect(url).toBeDefined();
      expect(out).toContain(`curl -s -X POST ${url}/__fake/codes`);
      expect(out).toContain('"appId":"wx00000000000demo0"');
      // The printed curl line works: it mints a code for the demo AppID.
      const minted = await fetch(`${url}/__fake/codes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ appId: "wx00000000000demo0", openId: "test-user-1" }),
      });
      expect(((await minted.json()) as { code: string }).code).toEqual(expect.any(String));
      // And the phone-code line: one code for getPhoneNumber.
      expect(out).toContain(`curl -s -X POST ${url}/__fake/phone-codes`);
      const phone = await fetch(`${url}/__fake/phone-codes`, {
        method: "POST",
        headers: { "content-type": "application/json" },
        body: JSON.stringify({ appId: "wx00000000000demo0", purePhoneNumber: "13800138000" }),
      });
      expect(((await phone.json()) as { code: string }).code).toEqual(expect.any(String));
      expect(out + err).not.toContain("demo-secret-for-the-fake-wechat-server");
    } finally {
      child.kill("SIGTERM");
    }
    expect(await exited).toBe(0);
  });
});
