import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { ERROR_CODES, type ErrorCode } from "../runtime/errors/codes.ts";
import { JitError, LoginError, WeChatApiError } from "../runtime/errors/JitError.ts";

const codes = Object.keys(ERROR_CODES) as ErrorCode[];
const readme = readFileSync(new URL("../README.md", import.meta.url), "utf8");

/** The README's error table: rows "| `CODE` | status | family | meaning |" of its "Error codes" section. */
function readmeCodes(): string[] {
  const section = readme.split(/^## /m).find((part) => part.startsWith("Error codes")) ?? "";
  return [...section.matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|/gm)].map((m) => m[1]!);
}

describe("error registry", () => {
  it("has a pinned number of codes, so none is added or dropped by accident", () => {
    // Change this number only together with the README table.
    expect(codes.length).toBe(80);
  });

  it("documents every code in README, and README documents no code that does not exist", () => {
    const documented = readmeCodes();
    expect([...documented].sort()).toEqual([...codes].sort());
  });

  it("gives each code a status the HTTP layer can send", () => {
    for (const code of codes) {
      const { status } = ERROR_CODES[code];
      expect([400, 401, 403, 404, 409, 413, 429, 500, 502, 503], code).toContain(status);
    }
  });

  it("fills message templates and serialises only safe fields", () => {
    const err = new LoginError("USER_NOT_FOUND", { userId: 42 });
    expect(err.message).toBe("user 42 does not exist");
    expect(err.status).toBe(404);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: "USER_NOT_FOUND", message: "user 42 does not exist" });
  });

  it("refuses a code raised under the wrong family", () => {
    expect(() => new LoginError("WECHAT_BUSY")).toThrow(TypeError);
  });

  it("keeps the WeChat errcode and rid", () => {
    const err = new WeChatApiError("WECHAT_CODE_USED", { errcode: 40163, rid: "abc123" });
    expect(err).toBeInstanceOf(JitError);
    expect(err.toJSON()).toMatchObject({ code: "WECHAT_CODE_USED", errcode: 40163, rid: "abc123" });
    expect(err.message).toContain("rid: abc123");
  });
});
