import fc from "fast-check";
import type { FunctionDecl } from "../../runtime/element/types.ts";

/** One generated request: raw body bytes, its content type (null: none sent), and whether to send a valid token. */
export interface FuzzRequest {
  body: Buffer;
  contentType: string | null;
  auth: "none" | "valid" | "garbage";
  kind: string;
}

const EDGE_NUMBERS = [0, -0, 1, -1, 0.5, 2 ** 31, -(2 ** 31), 2 ** 31 - 1, 2 ** 32, 2 ** 53, -(2 ** 53), Number.MAX_SAFE_INTEGER + 2, 1e308, -1e308, 5e-324, Number.MIN_VALUE];
/** Number literals JSON.stringify cannot write: out of range, huge integers, exponents. */
const RAW_NUMBERS = ["1e400", "-1e400", "123456789012345678901234567890", "-0", "0.0000000000000000000001", "1E2", "9007199254740993"];
const POLLUTION_KEYS = ["__proto__", "constructor", "prototype", "__defineGetter__", "toString", "valueOf", "hasOwnProperty"];

const edgeValue: fc.Arbitrary<unknown> = fc.oneof(
  fc.constantFrom(...EDGE_NUMBERS),
  fc.integer(),
  fc.double(),
  fc.string({ maxLength: 40 }),
  fc.string16bits({ maxLength: 40 }), // lone surrogates included
  fc.fullUnicodeString({ maxLength: 40 }),
  fc.constantFrom("", " ", "\u0000", "\ud800", "\udfff", "null", "../../etc/passwd", "%00", "<script>", "' OR 1=1 --", "\u202e"),
  fc.constantFrom(null, true, false),
  fc.constant("x".repeat(5000)),
  fc.array(fc.integer(), { maxLength: 5 }),
  fc.dictionary(fc.string({ maxLength: 8 }), fc.integer(), { maxKeys: 4 }),
);

const key: fc.Arbitrary<string> = fc.oneof(fc.constantFrom(...POLLUTION_KEYS), fc.string({ maxLength: 12 }), fc.string16bits({ maxLength: 8 }));

/** JSON text of an object from entries, written by hand so keys like __proto__ and duplicates survive. */
function objectText(entries: [string, string][]): string {
  return `{${entries.map(([k, v]) => `${JSON.stringify(k)}:${v}`).join(",")}}`;
}

function valueText(value: unknown): string {
  return JSON.stringify(value) ?? "null";
}

function nested(depth: number, kind: "array" | "object"): string {
  return kind === "array" ? "[".repeat(depth) + "]".repeat(depth) : '{"a":'.repeat(depth) + "1" + "}".repeat(depth);
}

/** The body text of a request to one function: shaped after its arguments, then broken in every way the issue lists. */
function bodyText(decl: FunctionDecl): fc.Arbitrary<{ text: string | Buffer; kind: string }> {
  const args = (decl.args ?? []).map((a) => a.name);
  const shaped = fc
    .record({
      keep: fc.subarray(args),
      values: fc.array(fc.oneof(edgeValue.map(valueText), fc.constantFrom(...RAW_NUMBERS)), { minLength: args.length, maxLength: args.length }),
      extra: fc.array(fc.tuple(key, fc.oneof(edgeValue.map(valueText), fc.constantFrom(...RAW_NUMBERS))), { maxLength: 3 }),
    })
    .map(({ keep, values, extra }) => ({ text: objectText([...keep.map((k, i): [string, string] => [k, values[i]!]), ...extra]), kind: extra.length ? "extra keys" : keep.length < args.length ? "missing keys" : "wrong types" }));
  const pollution = fc
    .tuple(fc.constantFrom(...POLLUTION_KEYS), fc.constantFrom('{"polluted":"yes"}', '{"prototype":{"polluted":"yes"}}', "1", '"x"', "null"))
    .map(([k, v]) => ({ text: objectText([[k, v], ...args.map((a): [string, string] => [a, '"fuzz"'])]), kind: "prototype pollution" }));
  const deep = fc.tuple(fc.integer({ min: 50, max: 20_000 }), fc.constantFrom<"array" | "object">("array", "object")).map(([d, k]) => ({ text: args.length ? objectText([[args[0]!, nested(d, k)]]) : nested(d, k), kind: "deeply nested" }));
  const huge = fc.integer({ min: 12_000, max: 64 * 1024 }).map((n) => ({ text: objectText([[args[0] ?? "x", JSON.stringify("y".repeat(n))]]), kind: "huge" }));
  const notObject = fc.oneof(edgeValue.map(valueText), fc.constantFrom(...RAW_NUMBERS)).map((text) => ({ text, kind: "not an object" }));
  const badUtf8 = fc
    .tuple(fc.constantFrom(...args, "code"), fc.uint8Array({ minLength: 1, maxLength: 16 }), fc.constantFrom([0xff], [0xc3], [0xed, 0xa0, 0x80], [0xf4, 0x90, 0x80, 0x80], [0xe2, 0x82]))
    .map(([k, junk, bad]) => ({ text: Buffer.concat([Buffer.from(`{"${k}":"`), Buffer.from(junk), Buffer.from(bad), Buffer.from('"}')]), kind: "invalid UTF-8" }));
  const loneSurrogate = fc.constantFrom("\\ud800", "\\udfff", "\\udbff\\u0041", "\\u0000").map((esc) => ({ text: objectText(args.map((a): [string, string] => [a, `"a${esc}b"`])), kind: "lone surrogates" }));
  const malformed = fc.oneof(fc.string({ maxLength: 30 }), fc.constantFrom("{", "[", '{"a":}', "{'a':1}", "undefined", "NaN", "Infinity", '{"a":1,}', "\ufeff{}")).map((text) => ({ text, kind: "malformed JSON" }));
  const empty = fc.constant({ text: "", kind: "empty" });
  return fc.oneof(
    { arbitrary: shaped, weight: 6 },
    { arbitrary: pollution, weight: 1 },
    { arbitrary: deep, weight: 1 },
    { arbitrary: huge, weight: 1 },
    { arbitrary: notObject, weight: 1 },
    { arbitrary: badUtf8, weight: 1 },
    { arbitrary: loneSurrogate, weight: 1 },
    { arbitrary: malformed, weight: 1 },
    { arbitrary: empty, weight: 1 },
  );
}

const CONTENT_TYPES = ["application/json", "application/json; charset=utf-8", "APPLICATION/JSON", "text/plain", "application/x-www-form-urlencoded", "multipart/form-data; boundary=x", "application/json; charset=latin1", "application/octet-stream", "]]][", null] as const;

export function fuzzRequests(decl: FunctionDecl): fc.Arbitrary<FuzzRequest> {
  return fc
    .record({
      body: bodyText(decl),
      contentType: fc.oneof({ arbitrary: fc.constant("application/json"), weight: 6 }, { arbitrary: fc.constantFrom(...CONTENT_TYPES), weight: 2 }),
      auth: fc.constantFrom<FuzzRequest["auth"]>("none", "valid", "valid", "garbage"),
    })
    .map(({ body, contentType, auth }) => ({
      body: typeof body.text === "string" ? Buffer.from(body.text, "utf8") : body.text,
      contentType,
      auth,
      kind: contentType === "application/json" ? body.kind : `content type ${contentType ?? "none"}`,
    }));
}
