import { spawn } from "node:child_process";
import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { openSqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { AUTH, DEMO_APPID, LOGIN, REPO, TEST_MASTER_KEY, post, removeDir } from "./helpers/http.ts";
import { startChild } from "./helpers/httpChild.ts";

// README command 1 (docs/development.md): `npm start` (node scripts/demo.js) serves the demo with the fake
// WeChat server, prints a walkthrough that matches its routes, and stops cleanly on SIGTERM.
describe("demo quick start", () => {
  let dir: string;
  beforeAll(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "jit-demo-"));
  });
  afterAll(async () => {
    if (dir) await removeDir(dir);
  });

  it("starts, walks a new user through the flow, and exits 0 on SIGTERM", async () => {
    const pkg = JSON.parse(await fs.readFile(path.join(REPO, "package.json"), "utf8"));
    expect(pkg.scripts.start).toBe("node scripts/demo.js");
    const dbFile = path.join(dir, "demo.sqlite");
    const child = startChild([path.join(REPO, "scripts", "demo.js")], {
      PORT: "0",
      FAKE_WECHAT_PORT: "0",
      JIT_DB: dbFile,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "info",
    });
    try {
      const [, api] = await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/);
      const [, fake] = await child.waitFor(/fake WeChat server on (http:\/\/127\.0\.0\.1:\d+)/);
      await child.waitFor(/Stop with Ctrl-C/);
      const printed = child.stdout();
      // The walkthrough names the real routes and the fake's code-minting endpoint.
      for (const route of [`${LOGIN}/getLoginCode`, `${LOGIN}/register`, `${AUTH}/loginByCode`, `${AUTH}/getCurrentUser`, `${LOGIN}/unbind`]) {
        expect(printed).toContain(`${api}${route}`);
      }
      expect(printed).toContain(`${fake}/__fake/codes`);
      expect(printed).toContain(`data in ${dbFile};`);
      expect(printed).toContain("authorization: Bearer $TOKEN");
      expect(printed).not.toContain("demo-secret-for-the-fake-wechat-server");

      const health = await fetch(`${api}/healthz`);
      expect(await health.json()).toEqual({ status: "ok" });

      const mint = async () => (await post(fake!, "/__fake/codes", { appId: DEMO_APPID, openId: "demo-test-user" })).body.code as string;
      const code = await mint();
      const first = await post(api!, `${LOGIN}/getLoginCode`, { code });
      expect(first.body.data.bindCode).toEqual(expect.any(String));
      const reg = await post(api!, `${LOGIN}/register`, { bindCode: first.body.data.bindCode });
      expect(reg.status).toBe(200);
      expect((await post(api!, `${LOGIN}/getLoginCode`, { code })).body.error.code).toBe("WECHAT_CODE_USED");
      const session = await post(api!, `${AUTH}/loginByCode`, { loginCode: reg.body.data.loginCode });
      expect(session.body.data.userId).toBe(reg.body.data.userId);
      const second = await post(api!, `${LOGIN}/getLoginCode`, { code: await mint() });
      expect(second.body.data.loginCode).toEqual(expect.any(String));
      const unbind = await post(api!, `${LOGIN}/unbind`, { userId: reg.body.data.userId }, { token: session.body.data.token });
      expect(unbind.body).toEqual({ data: { success: true } });
      expect((await post(api!, `${AUTH}/getCurrentUser`, undefined, { token: session.body.data.token })).status).toBe(401);
      const again = await post(api!, `${LOGIN}/getLoginCode`, { code: await mint() });
      expect(again.body.data.bindCode).toEqual(expect.any(String));

      child.kill("SIGTERM");
      expect(await child.exited).toEqual({ code: 0, signal: null });
      // The demo kept its data in the embedded SQLite file.
      const store = await openSqliteStore({ file: dbFile });
      try {
        expect(await store.getUser(reg.body.data.userId)).toMatchObject({ userId: reg.body.data.userId });
        expect(await store.wasUnbound(DEMO_APPID, "demo-test-user")).toBe(true);
      } finally {
        await store.close();
      }
      for (const secret of [session.body.data.token, first.body.data.bindCode, reg.body.data.loginCode, second.body.data.loginCode]) {
        expect(child.stderr()).not.toContain(secret);
        expect(child.stdout()).not.toContain(secret);
      }
    } finally {
      child.kill("SIGKILL");
    }
  });

  it("under `npm start`, a SIGTERM to npm stops the demo too (npm passes it to its shell only)", async () => {
    // Its own process group, so the finally below can kill a demo left running.
    const npm = spawn("npm", ["start", "--silent"], {
      cwd: REPO,
      detached: true,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, PORT: "0", FAKE_WECHAT_PORT: "0", JIT_DB: path.join(dir, "npm.sqlite"), JIT_MASTER_KEY: TEST_MASTER_KEY },
    });
    let out = "";
    let err = "";
    npm.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
    npm.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
    const npmExited = new Promise((resolve) => npm.on("exit", resolve));
    const answers = (url: string) => fetch(`${url}/healthz`).then(() => true, () => false);
    try {
      const deadline = Date.now() + 60_000;
      let api: string | undefined;
      while (!api && Date.now() < deadline) {
        api = /listening on (http:\/\/127\.0\.0\.1:\d+)/.exec(out)?.[1];
        if (!api) await new Promise((r) => setTimeout(r, 100));
      }
      expect(api, err).toBeDefined();
      expect(await answers(api!)).toBe(true);
      npm.kill("SIGTERM");
      await npmExited;
      let stillUp = true;
      for (let i = 0; i < 100 && stillUp; i++) {
        await new Promise((r) => setTimeout(r, 100));
        stillUp = await answers(api!);
      }
      expect(stillUp, "the demo kept serving after npm was stopped").toBe(false);
      // It stopped on purpose (the orphan watch), not by a signal it happened to get.
      for (let i = 0; i < 50 && !err.includes("the process that started it is gone"); i++) await new Promise((r) => setTimeout(r, 100));
      expect(err).toContain("the process that started it is gone");
    } finally {
      try {
        process.kill(-npm.pid!, "SIGKILL");
      } catch {
        // the whole group is gone already
      }
    }
  });

  it("a malformed master key stops the demo at start-up with MASTER_KEY_INVALID and exit 1", async () => {
    const child = startChild([path.join(REPO, "scripts", "demo.js")], {
      PORT: "0",
      FAKE_WECHAT_PORT: "0",
      JIT_DB: path.join(dir, "bad-key.sqlite"),
      JIT_MASTER_KEY: "NOT-A-KEY-secret-material-9182",
    });
    try {
      const exit = await Promise.race([child.exited, child.waitFor(/listening on/).then(() => "listening" as const, () => child.exited)]);
      expect(exit, child.stderr()).toEqual({ code: 1, signal: null });
      expect(child.stderr()).toMatch(/^MASTER_KEY_INVALID JIT_MASTER_KEY must be 32 bytes/m);
      expect(child.stderr() + child.stdout()).not.toContain("secret-material-9182");
    } finally {
      child.kill("SIGKILL");
    }
  });
});
