import { execFile } from "node:child_process";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { appJson, greeterFamily, makeFixture, makeTempRoot, writeTree } from "./helpers/appFixture.ts";

const repo = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const bin = path.join(repo, "cli", "bin.js");

interface Run {
  code: number;
  stdout: string;
  stderr: string;
}

function jit(args: string[], env: Record<string, string> = {}): Promise<Run> {
  return new Promise((resolve) => {
    execFile(process.execPath, [bin, ...args], { cwd: repo, env: { ...process.env, JIT_LOG_LEVEL: "silent", ...env } }, (err, stdout, stderr) => {
      const code = err ? (typeof err.code === "number" ? err.code : 1) : 0;
      resolve({ code, stdout, stderr });
    });
  });
}

const SECRET = "s3cr3t-value";
let good: { root: string; cleanup: () => Promise<void> };
let bad: { root: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  good = await makeFixture({
    ...greeterFamily(),
    ...appJson("shop"),
    "apps/shop/elements/demo/GreeterType/e.json": { title: "Shop greeter", type: "demo.Meta", backendBundleEntry: "." },
    "apps/shop/elements/demo/GreeterType/index.ts": "export default (P: any) => class extends P {};\n",
  });
  bad = await makeTempRoot();
  await writeTree(bad.root, {
    ...greeterFamily(),
    ...appJson("shop"),
    "elements/bad/a/e.json": { title: "a", type: "demo.Nope" },
    "elements/bad/b/e.json": "{ \"title\": \"b\",\n  \"type\": \"\",\n}",
    "elements/demo/hello/hello.json": { auth: { appId: 5, appSecret: SECRET } },
  });
});
afterAll(async () => {
  await good.cleanup();
  await bad.cleanup();
});

describe("jit CLI core (child process)", () => {
  it("jit elements lists fullName, kind, type and layer (text and --json)", async () => {
    const [text, json] = await Promise.all([jit(["--root", good.root, "elements"]), jit(["--root", good.root, "elements", "--json"])]);
    expect(text.code).toBe(0);
    expect(text.stdout.split("\n")[0]).toMatch(/^FULLNAME\s+KIND\s+TYPE\s+LAYER$/);
    expect(text.stdout).toMatch(/demo\.GreeterType\s+type\s+demo\.Meta\s+shop/);
    expect(json.code).toBe(0);
    // The root's own elements/ is a layer between its apps and the package's platform.
    const listed = JSON.parse(json.stdout) as Array<{ fullName: string; layer: string }>;
    expect(listed.filter((e) => e.fullName.startsWith("demo."))).toEqual([
      { fullName: "demo.GreeterType", kind: "type", type: "demo.Meta", layer: "shop" },
      { fullName: "demo.Meta", kind: "meta", type: "", layer: "root" },
      { fullName: "demo.hello", kind: "instance", type: "demo.GreeterType", layer: "root" },
    ]);
    expect(listed).toContainEqual(expect.objectContaining({ fullName: "auths.loginTypes.WeChatMiniType", layer: "platform" }));
  });

  it("jit show prints the chain with layers, shadows and config with secrets masked", async () => {
    const [json, text, hello] = await Promise.all([
      jit(["--root", good.root, "--app", "shop", "show", "demo.hello", "--json"]),
      jit(["--root", good.root, "show", "demo.GreeterType"]),
      jit(["--root", good.root, "show", "demo.hello"]),
    ]);
    expect(json.code).toBe(0);
    const view = JSON.parse(json.stdout);
    expect(view.chain.map((c: { fullName: string; layer: string }) => `${c.fullName}@${c.layer}`)).toEqual([
      "demo.hello@root",
      "demo.GreeterType@shop",
      "demo.GreeterType@root",
      "demo.Meta@root",
    ]);
    expect(view.config.auth).toEqual({ appId: "wx-hello", appSecret: "******", pin: "******" });
    expect(json.stdout).not.toContain(SECRET);
    expect(text.code).toBe(0);
    expect(text.stdout).toContain("1. demo.GreeterType [shop]");
    expect(text.stdout).toContain("2. demo.GreeterType [root]");
    expect(text.stdout).toMatch(/shadows:\n  - demo\.GreeterType \[root\]/);
    expect(hello.stdout).toContain('"appSecret": "******"');
    expect(hello.stdout).not.toContain(SECRET);
  });

  it("jit validate: exit 0 when valid, exit 1 with one line per problem otherwise", async () => {
    const [ok, failed, debug] = await Promise.all([
      jit(["--root", good.root, "validate"]),
      jit(["--root", bad.root, "validate"]),
      jit(["--root", bad.root, "--debug", "validate"]),
    ]);
    expect(ok).toMatchObject({ code: 0, stderr: "" });
    expect(ok.stdout).toMatch(/^ok: \d+ elements \(app shop, layers shop > root > platform\)/);
    expect(failed.code).toBe(1);
    expect(failed.stdout).toBe("");
    const lines = failed.stderr.trim().split("\n");
    expect(lines[0]).toBe("DECLARATION_INVALID 3 problem(s) in element declarations");
    expect(lines.slice(1).map((l) => l.split(" ")[0]).sort()).toEqual(["JSON_MALFORMED", "SCHEMA_INVALID", "TYPE_NOT_FOUND"]);
    expect(failed.stderr).toContain(`${bad.root}/elements/demo/hello/hello.json#/auth/appId`);
    expect(failed.stderr).toContain("line 3, column 1");
    expect(failed.stderr).not.toContain(SECRET);
    expect(failed.stderr).not.toMatch(/\n\s+at /); // no stack trace
    expect(debug.code).toBe(1);
    expect(debug.stderr).toMatch(/\n\s+at /);
  });

  it("usage errors exit 2; user errors exit 1", async () => {
    const [unknown, noArg, badOption, help, missing] = await Promise.all([
      jit(["--root", good.root, "nope"]),
      jit(["--root", good.root, "show"]),
      jit(["--root", good.root, "elements", "--bogus"]),
      jit(["--help"]),
      jit(["--root", good.root, "show", "demo.helo"]),
    ]);
    expect([unknown.code, noArg.code, badOption.code, help.code]).toEqual([2, 2, 2, 0]);
    expect(unknown.stderr).toContain("unknown command");
    expect(missing.code).toBe(1);
    expect(missing.stderr.trim()).toBe('ELEMENT_NOT_FOUND element "demo.helo" not found (did you mean demo.hello, demo.Meta?)');
  });

  it("--app is required when several apps exist, and names them", async () => {
    const two = await makeFixture({ ...greeterFamily(), ...appJson("a"), ...appJson("b") });
    try {
      const [run, chosen, wrong] = await Promise.all([
        jit(["--root", two.root, "elements"]),
        jit(["--root", two.root, "--app", "b", "elements"]),
        jit(["--root", two.root, "--app", "c", "elements"]),
      ]);
      expect(run.code).toBe(2); // a usage error: the command line must choose
      expect(run.stderr).toContain("APP_AMBIGUOUS");
      expect(run.stderr).toContain("a, b");
      expect(chosen.code).toBe(0);
      expect(wrong.code).toBe(1);
      expect(wrong.stderr).toContain("APP_NOT_FOUND");
    } finally {
      await two.cleanup();
    }
  });
});
