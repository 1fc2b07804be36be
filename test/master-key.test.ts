import { randomBytes } from "node:crypto";
import { promises as fs } from "node:fs";
import os from "node:os";
import path from "node:path";
import { afterEach, beforeEach, describe, expect, it } from "vitest";
import { configError } from "./helpers/thrown.ts";
import type { Logger } from "../runtime/logging/logger.ts";
import { loadMasterKey, parseMasterKey, resetMasterKeyWarning } from "../runtime/security/masterKey.ts";

function recordingLogger() {
  const warnings: Array<{ obj: object; msg?: string }> = [];
  const logger: Logger = {
    debug() {},
    info() {},
    warn(obj, msg) {
      warnings.push({ obj, msg });
    },
    error() {},
    child: () => logger,
  };
  return { logger, warnings };
}


describe("parseMasterKey", () => {
  const key = randomBytes(32);
  it("accepts 32 bytes as base64, base64url or 64 hex characters (whitespace trimmed)", () => {
    expect(parseMasterKey(key.toString("base64"), "JIT_MASTER_KEY")).toEqual(key);
    expect(parseMasterKey(key.toString("base64url"), "JIT_MASTER_KEY")).toEqual(key);
    expect(parseMasterKey(key.toString("hex"), "JIT_MASTER_KEY")).toEqual(key);
    expect(parseMasterKey(key.toString("hex").toUpperCase(), "JIT_MASTER_KEY")).toEqual(key);
    expect(parseMasterKey(`${key.toString("base64")}\n`, "/data/master.key")).toEqual(key);
  });

  const bad: Array<[string, string]> = [
    ["16 bytes of base64", randomBytes(16).toString("base64")],
    ["33 bytes of base64", randomBytes(33).toString("base64")],
    ["62 hex characters", randomBytes(31).toString("hex")],
    ["not base64 at all", "this is not a key!!"],
    ["empty", "   "],
  ];
  for (const [what, value] of bad) {
    it(`rejects ${what} with MASTER_KEY_INVALID naming the source, never the value`, () => {
      const err = configError(() => parseMasterKey(value, "JIT_MASTER_KEY"));
      expect(err.code).toBe("MASTER_KEY_INVALID");
      expect(err.message.startsWith("JIT_MASTER_KEY must be 32 bytes in base64 or hex: ")).toBe(true);
      if (value.trim()) expect(err.message).not.toContain(value.trim());
      expect(JSON.stringify(err)).not.toContain(value.trim() || "\u0000");
    });
  }
});

describe("loadMasterKey", () => {
  let dir: string;
  beforeEach(async () => {
    dir = await fs.mkdtemp(path.join(os.tmpdir(), "jit-master-key-"));
    resetMasterKeyWarning();
  });
  afterEach(async () => {
    await fs.rm(dir, { recursive: true, force: true });
  });

  it("uses JIT_MASTER_KEY when set, writes nothing and does not warn", async () => {
    const key = randomBytes(32);
    const { logger, warnings } = recordingLogger();
    expect(await loadMasterKey({ env: { JIT_MASTER_KEY: key.toString("hex") }, dataDir: dir, logger })).toEqual(key);
    expect(await fs.readdir(dir)).toEqual([]);
    expect(warnings).toEqual([]);
  });

  it("a malformed JIT_MASTER_KEY is an error at start-up", async () => {
    const { logger } = recordingLogger();
    await expect(loadMasterKey({ env: { JIT_MASTER_KEY: "short" }, dataDir: dir, logger })).rejects.toMatchObject({ code: "MASTER_KEY_INVALID" });
  });

  it("generates a key file with mode 0600 once, reuses it, and warns once without key material", async () => {
    const { logger, warnings } = recordingLogger();
    const dataDir = path.join(dir, "nested", ".jit");
    const first = await loadMasterKey({ env: {}, dataDir, logger });
    const second = await loadMasterKey({ env: {}, dataDir, logger });
    expect(first).toHaveLength(32);
    expect(second).toEqual(first);
    const file = path.join(dataDir, "master.key");
    expect((await fs.stat(file)).mode & 0o777).toBe(0o600);
    expect(await fs.readdir(dataDir)).toEqual(["master.key"]); // no temp file left behind
    expect(warnings).toHaveLength(1);
    expect(warnings[0]!.msg).toContain("JIT_MASTER_KEY");
    const logged = JSON.stringify(warnings);
    for (const form of [first.toString("base64"), first.toString("hex"), first.toString("base64url")]) expect(logged).not.toContain(form);
  });

  it("concurrent first starts agree on one key", async () => {
    const { logger, warnings } = recordingLogger();
    const keys = await Promise.all(Array.from({ length: 8 }, () => loadMasterKey({ env: {}, dataDir: dir, logger })));
    for (const key of keys) expect(key).toEqual(keys[0]);
    expect(warnings).toHaveLength(1);
  });

  it("a malformed key file names the file, not the content", async () => {
    const file = path.join(dir, "master.key");
    await fs.writeFile(file, "not-a-valid-key", { mode: 0o600 });
    const { logger } = recordingLogger();
    const err = await loadMasterKey({ env: {}, dataDir: dir, logger }).catch((e: unknown) => e);
    expect(err).toMatchObject({ code: "MASTER_KEY_INVALID" });
    expect((err as Error).message).toContain(file);
    expect((err as Error).message).not.toContain("not-a-valid-key");
  });
});
