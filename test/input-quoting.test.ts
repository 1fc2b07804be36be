import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { formatErrorMessage, JitError, quoteInput, type ErrorCode } from "../runtime/errors/index.ts";
import { platformErrorTable } from "./helpers/errorTable.ts";
import { describeValidation } from "../runtime/http/errors.ts";
import { AUTH, LOGIN, startStack, type Stack } from "./helpers/http.ts";

/**
 * Regression: client input was echoed back whole. A 1,400-segment path came back in
 * ELEMENT_NOT_FOUND (a 15.7 KB body and a 12 KB log line); CORP_NOT_MEMBER quoted the corpId
 * sent, control characters included. Client input is now quoted (escaped, cut at about 100
 * characters) in every error message and log line.
 */

const CONTROL = /[\u0000-\u001f\u007f-\u009f]/;
const HOSTILE = `evil\u0000\u001b[31m\r\nfake log line\u202e"\\` + "x".repeat(5_000);

describe("quoteInput", () => {
  it("escapes control, bidi and quote characters and cuts at 100 characters with an ellipsis", () => {
    expect(quoteInput("plain.name_1")).toBe("plain.name_1");
    expect(quoteInput('a"b\\c\u0001\n\u202e')).toBe('a\\"b\\\\c\\u0001\\u000a\\u202e');
    const cut = quoteInput(HOSTILE);
    expect(cut.endsWith("…")).toBe(true);
    expect(cut.length).toBeLessThanOrEqual(101);
    expect(cut).not.toMatch(CONTROL);
    expect(cut.startsWith("evil\\u0000\\u001b[31m\\u000d\\u000afake log line\\u202e\\\"\\\\xxx")).toBe(true);
  });

  it("never cuts an escape or a surrogate pair in half", () => {
    for (let pad = 0; pad < 8; pad++) {
      const escaped = quoteInput("y".repeat(95 + pad) + "\u0001".repeat(10));
      expect(escaped).toMatch(/^y+(\\u0001)*…$/);
      const emoji = quoteInput("y".repeat(95 + pad) + "😀".repeat(10));
      expect(emoji).toMatch(/^y+(😀)*…$/u);
    }
  });
});

const table = await platformErrorTable();

describe("every error that names client input quotes it", () => {
  const ERROR_CODES = Object.fromEntries([...table].map(([code, { spec }]) => [code, spec]));
  const withInput = (Object.keys(ERROR_CODES) as ErrorCode[]).filter((code) => "input" in ERROR_CODES[code]!);

  it("covers the codes that echo what a client sent", () => {
    expect(withInput.sort()).toEqual(["APP_NOT_FOUND", "CORP_NOT_MEMBER", "ELEMENT_NOT_FOUND", "FUNCTION_NOT_FOUND", "MODEL_FIELD_UNKNOWN", "MODEL_FILTER_INVALID", "ROUTE_NOT_FOUND"]);
  });

  it.each(withInput)("%s: a 5,000-character value with control characters stays short and escaped", (code) => {
    const spec = ERROR_CODES[code] as { message: string; input: readonly string[] };
    const params = Object.fromEntries(spec.input.map((name) => [name, HOSTILE]));
    const message = formatErrorMessage(ERROR_CODES[code]!, params);
    expect(message).not.toMatch(CONTROL);
    expect(message.length).toBeLessThanOrEqual(spec.message.length + 101 * spec.input.length);
  });

  it("escapes control characters in every other param too (a message is a log line)", () => {
    const message = new JitError("CONFIG_INVALID", { source: "JIT_X", reason: "line one\nline two\u001b[0m" }).message;
    expect(message).toBe("JIT_X: line one\\u000aline two\\u001b[0m");
  });

  it("API_PARAMS_ERROR names at most five problems, each key quoted", () => {
    const issues = Array.from({ length: 300 }, (_, i) => ({ instancePath: "", keyword: "additionalProperties", params: { additionalProperty: `k${i}\u0007${"z".repeat(300)}` } }));
    const reason = describeValidation(issues);
    expect(reason).not.toMatch(CONTROL);
    expect(reason.length).toBeLessThan(800);
    expect(reason).toMatch(/^\/k0\\u0007z+… is not a declared argument; .*; and 295 more problem\(s\)$/);
  });
});

describe("over HTTP: answers and log lines stay small", () => {
  let stack: Stack;
  beforeAll(async () => {
    stack = await startStack();
  });
  afterAll(async () => {
    await stack?.close();
  });

  const logLineOf = (requestId: string) => stack.logs().split("\n").filter((l) => l.includes(requestId));

  it("a 1,400-segment path: ELEMENT_NOT_FOUND quotes 100 characters of it, the log line too", async () => {
    const path = `/api/demo${"/segment-x".repeat(1_400)}`;
    const res = await stack.call(path, {});
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("ELEMENT_NOT_FOUND");
    expect(res.body.error.message).toMatch(/^element "segment-x\.segment-x.*…" not found$/);
    expect(res.text.length).toBeLessThan(400);
    const lines = logLineOf(res.body.error.requestId);
    expect(lines.length).toBeGreaterThanOrEqual(1);
    for (const line of lines) expect(line.length).toBeLessThan(600);
  });

  it("a long path that is no route: ROUTE_NOT_FOUND is cut as well", async () => {
    const res = await stack.call(`/nowhere${"/%1b[31m".repeat(1_000)}`, {});
    expect(res.status).toBe(404);
    expect(res.body.error.code).toBe("ROUTE_NOT_FOUND");
    expect(res.text.length).toBeLessThan(400);
  });

  it("an unknown function with a 100-character name: FUNCTION_NOT_FOUND quotes it whole", async () => {
    const res = await stack.call(`${LOGIN}/${"f".repeat(100)}`, {});
    expect(res.body.error).toMatchObject({ code: "FUNCTION_NOT_FOUND", message: `auths.loginTypes.myWeChatMiniLogin has no callable function "${"f".repeat(100)}"` });
  });

  it("CORP_NOT_MEMBER escapes the corpId sent and cuts it", async () => {
    const userId = await stack.register("quote-corp");
    const got = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("quote-corp") });
    expect(got.body.data.userId).toBe(userId);
    const corpId = `\u001b]0;owned\u0007\r\n${"c".repeat(240)}`;
    const res = await stack.call(`${AUTH}/loginByCode`, { loginCode: got.body.data.loginCode, corpId });
    expect(res.status).toBe(403);
    expect(res.body.error.code).toBe("CORP_NOT_MEMBER");
    expect(res.body.error.message).toMatch(/^user is not a member of organisation "\\u001b\]0;owned\\u0007\\u000d\\u000ac+…"$/);
    expect(res.body.error.message).not.toMatch(CONTROL);
    expect(res.body.error.message.length).toBeLessThan(160);
    for (const line of logLineOf(res.body.error.requestId)) expect(line).not.toContain("c".repeat(120));
  });

  it("loginByCode's platform is quoted in the session log line", async () => {
    await stack.register("quote-platform");
    const got = await stack.call(`${LOGIN}/getLoginCode`, { code: stack.code("quote-platform") });
    const platform = `ios\u001b[2K\n${"p".repeat(240)}`;
    const res = await stack.call(`${AUTH}/loginByCode`, { loginCode: got.body.data.loginCode, platform });
    expect(res.status).toBe(200);
    const line = stack.logs().split("\n").find((l) => l.includes('"session opened"') && l.includes("ios"))!;
    expect(JSON.parse(line).platform).toMatch(/^ios\\u001b\[2K\\u000ap+…$/);
    expect(line).not.toContain("p".repeat(120));
  });

  it("a body of many unknown keys: API_PARAMS_ERROR stays short", async () => {
    const body = Object.fromEntries(Array.from({ length: 150 }, (_, i) => [`key${i}-${"k".repeat(80)}`, 1]));
    const res = await stack.call(`${LOGIN}/getLoginCode`, { code: "c", ...body });
    expect(res.status).toBe(400);
    expect(res.body.error.code).toBe("API_PARAMS_ERROR");
    expect(res.text.length).toBeLessThan(1_000);
  });
});
