import { readFileSync } from "node:fs";
import { describe, expect, it } from "vitest";
import { mergeErrorTables, RUNTIME_ERRORS, type ErrorSpec } from "../runtime/errors/codes.ts";
import { defineErrorClass, JitError } from "../runtime/errors/JitError.ts";
import { LoginError } from "../elements/auths/loginTypes/Meta/errors.ts";
import { WeChatApiError } from "../elements/auths/loginTypes/WeChatMiniType/wechat/errors.ts";
import { platformErrorTable } from "./helpers/errorTable.ts";

/**
 * Where the documented error table lives: the page, and the heading of its section. Repoint
 * these two when the table moves; the rows are "| `CODE` | status | family | message |", and
 * a code taken out of use stays listed in a "Retired codes" subsection of the same section
 * (so it is never reused for another meaning).
 */
const DOC_PAGE = new URL("../docs/error-codes.md", import.meta.url);
const DOC_SECTION = "Error codes";

interface DocRow {
  status: number;
  message: string;
}

function documentedTable(): { active: Map<string, DocRow>; retired: Set<string> } {
  const page = readFileSync(DOC_PAGE, "utf8");
  // The section is the page's title (#) or one of its sections (##).
  const section = page.split(/^##? /m).find((part) => part.startsWith(DOC_SECTION)) ?? "";
  const [current = "", ...retiredParts] = section.split(/^### Retired codes/m);
  const row = /^\|\s*`([A-Z][A-Z0-9_]+)`\s*\|\s*(\d{3})\s*\|[^|]*\|\s*((?:[^|\\]|\\.)*?)\s*\|\s*$/gm;
  const active = new Map<string, DocRow>();
  for (const m of current.matchAll(row)) active.set(m[1]!, { status: Number(m[2]), message: m[3]!.replace(/\\\|/g, "|") });
  const retired = new Set([...retiredParts.join("\n").matchAll(/^\|\s*`([A-Z][A-Z0-9_]+)`/gm)].map((m) => m[1]!));
  return { active, retired };
}

const table = await platformErrorTable();

describe("error registry", () => {
  it("has a pinned number of codes, so none is added or dropped by accident", () => {
    // Change this number only together with the documented table.
    expect(table.size).toBe(91);
  });

  it("documents every code with its status and message, and documents no code that does not exist", () => {
    const { active } = documentedTable();
    expect(active.size).toBeGreaterThan(0); // the page and section were found
    expect([...active.keys()].sort()).toEqual([...table.keys()].sort());
    for (const [code, { spec }] of table) {
      expect({ code, status: active.get(code)?.status, message: active.get(code)?.message }).toEqual({ code, status: spec.status, message: spec.message });
    }
  });

  it("never brings a retired code back", () => {
    const { retired } = documentedTable();
    for (const code of retired) expect(table.has(code), `${code} is retired`).toBe(false);
  });

  it("gives each code a status the HTTP layer can send", () => {
    for (const [code, { spec }] of table) {
      expect([400, 401, 403, 404, 409, 413, 429, 500, 502, 503], code).toContain(spec.status);
    }
  });

  it("refuses a code two owners define, naming both", () => {
    const clash: Record<string, ErrorSpec> = { TOKEN_INVALID: { family: "mine", status: 401, message: "mine" } };
    const { clashes } = mergeErrorTables([RUNTIME_ERRORS, { owner: "shop.orders", file: "elements/shop/orders/Meta/family.ts", codes: clash }]);
    expect(clashes.map((d) => [d.code, d.first.owner, d.second.owner])).toEqual([["TOKEN_INVALID", "jit-runtime", "shop.orders"]]);
  });

  it("fills message templates and serialises only safe fields", () => {
    const err = new LoginError("USER_NOT_FOUND", { userId: 42 });
    expect(err.message).toBe("user 42 does not exist");
    expect(err.status).toBe(404);
    expect(err).toBeInstanceOf(JitError);
    expect(JSON.parse(JSON.stringify(err))).toEqual({ code: "USER_NOT_FOUND", message: "user 42 does not exist" });
  });

  it("refuses a code raised under the wrong family", () => {
    expect(() => new LoginError("WECHAT_BUSY" as never)).toThrow(/LoginError cannot carry WECHAT_BUSY/);
    expect(() => new JitError("WECHAT_BUSY" as never)).toThrow(TypeError);
  });

  it("makes a family's class from its table, with its Retry-After", () => {
    const ShopError = defineErrorClass("ShopError", "shop", { OUT_OF_STOCK: { family: "shop", status: 409, message: "{item} is sold out", retryAfter: 30 } } as const);
    const err = new ShopError("OUT_OF_STOCK", { item: "tea" });
    expect([err.code, err.status, err.family, err.message, err.retryAfter, err.name]).toEqual(["OUT_OF_STOCK", 409, "shop", "tea is sold out", 30, "ShopError"]);
  });

  it("keeps the WeChat errcode and rid", () => {
    const err = new WeChatApiError("WECHAT_CODE_USED", { errcode: 40163, rid: "abc123" });
    expect(err).toBeInstanceOf(JitError);
    expect(err.toJSON()).toMatchObject({ code: "WECHAT_CODE_USED", errcode: 40163, rid: "abc123" });
    expect(err.message).toContain("rid: abc123");
  });
});
