import { existsSync } from "node:fs";
import { mkdtemp, readFile, rm } from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { runJit } from "./helpers/cliRun.ts";

// `jit init` with and without the mini-program project (the project itself logs in: docs.test.ts).
describe("jit init --miniprogram", () => {
  let root: string;
  beforeEach(async () => {
    root = await mkdtemp(path.join(os.tmpdir(), "jit-init-"));
  });
  afterEach(async () => {
    await rm(root, { recursive: true, force: true });
  });

  it("without --miniprogram writes no mini program", async () => {
    const out = await runJit(["--root", root, "init", "shop"], {});
    expect(out.code).toBe(0);
    expect(existsSync(path.join(root, "miniprogram"))).toBe(false);
  });

  it("writes the project against --api-base, with the instance's AppID, and refuses to overwrite any of it", async () => {
    const out = await runJit(["--root", root, "init", "shop", "--miniprogram", "--api-base", "https://api.example.com/"], {});
    expect(out.code, out.stderr).toBe(0);
    const appId = JSON.parse(await readFile(path.join(root, "apps/shop/elements/auths/loginTypes/shopLogin/shopLogin.json"), "utf8")).authConfig.appId;
    expect(JSON.parse(await readFile(path.join(root, "miniprogram/project.config.json"), "utf8")).appid).toBe(appId);
    const config = await readFile(path.join(root, "miniprogram/config.js"), "utf8");
    expect(config).toContain('baseUrl: "https://api.example.com"');
    expect(config).toContain('loginElement: "auths.loginTypes.shopLogin"');
    expect(await readFile(path.join(root, "miniprogram/lib/jit-client.js"), "utf8")).toContain("createClient");

    // Another app in the same root: its app files are new, but miniprogram/ exists.
    const again = await runJit(["--root", root, "init", "other", "--miniprogram"], {});
    expect(again.code).toBe(1);
    expect(again.stderr).toContain("INIT_FILE_EXISTS");
    expect(again.stderr).toContain(path.join(root, "miniprogram", "project.config.json"));
    expect(existsSync(path.join(root, "apps", "other"))).toBe(false);
  });

  it("refuses an --api-base that is not an http(s) URL, writing nothing", async () => {
    for (const bad of ["not a url", "ftp://127.0.0.1:8080"]) {
      const out = await runJit(["--root", root, "init", "shop", "--miniprogram", "--api-base", bad], {});
      expect(out.code, bad).toBe(2);
      expect(out.stderr).toContain("USAGE_ERROR");
      expect(out.stderr).toContain("--api-base");
    }
    expect(existsSync(path.join(root, "apps"))).toBe(false);
  });
});
