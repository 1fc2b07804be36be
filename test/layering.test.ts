import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";
import { describe, expect, it } from "vitest";

/**
 * The layers of ARCHITECTURE.md, checked on the sources: the runtime imports no element and
 * names no element family; element code reaches the runtime only through its public entry
 * `jit-runtime/element`, as an app author's code does.
 */
const REPO = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");

/** Words of the login family (and its fullNames) that the runtime must not speak. */
const FAMILY_WORDS = /wechat|openid|unionid|session_?key|password|bind ?code|login ?code|authsvc|\bauths\b|loginTypes/i;

/**
 * Folders of runtime/ that still hold login-family code while it moves into the database
 * handle and elements/auths/; this list is emptied once that move is merged.
 */
const NOT_YET_MOVED: string[] = [];

/** The mini-program client library: its own package entry (jit-runtime/miniprogram), the login family's client by design. */
const CLIENT_LIBRARY = ["runtime/miniprogram/"];

/** Generic uses of a listed word, exact text in an exact file, each with its reason. */
const GENERIC_TERMS = [
  { file: "runtime/http/schema.ts", text: 'case "Password":', why: "JitAi's masked-text data type of a function argument" },
  { file: "runtime/http/console/ui/main.ts", text: 'type: "password"', why: "the HTML input type that hides the admin token as it is typed" },
  { file: "runtime/database/postgres/config.ts", text: "password", why: "the database user's password in a postgres:// URL, which the pool config takes and no message shows" },
];

const SOURCE = /\.(ts|mts|js|mjs|json|html|css)$/;

/** Source files under `dir` (repository-relative, "/" separated); build output (dist/) is not source. */
function sources(dir: string): string[] {
  const out: string[] = [];
  for (const entry of readdirSync(path.join(REPO, dir), { withFileTypes: true })) {
    const rel = `${dir}/${entry.name}`;
    if (entry.isDirectory()) {
      if (entry.name !== "dist" && entry.name !== "node_modules") out.push(...sources(rel));
    } else if (SOURCE.test(entry.name)) out.push(rel);
  }
  return out;
}

/** The module specifiers a file imports, re-exports or loads (static and dynamic). */
export function specifiers(text: string): string[] {
  const found: string[] = [];
  for (const m of text.matchAll(/^\s*(?:import|export)\s[^;]*?\sfrom\s+["']([^"']+)["']/gms)) found.push(m[1]!);
  for (const m of text.matchAll(/^\s*import\s+["']([^"']+)["']/gm)) found.push(m[1]!);
  for (const m of text.matchAll(/\bimport\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]!);
  for (const m of text.matchAll(/\brequire\(\s*["']([^"']+)["']\s*\)/g)) found.push(m[1]!);
  return found;
}

/** Lines of `text` that speak of the family, generic terms of this file aside. */
export function familyLines(file: string, text: string): string[] {
  const generic = GENERIC_TERMS.filter((g) => g.file === file).map((g) => g.text);
  return text.split("\n").flatMap((line, i) => {
    const rest = generic.reduce((l, term) => l.split(term).join(""), line);
    return FAMILY_WORDS.test(rest) ? [`${file}:${i + 1}: ${line.trim().slice(0, 120)}`] : [];
  });
}

/** Where a specifier of `file` lands, repository-relative ("" for a package). */
function target(file: string, spec: string): string {
  if (!spec.startsWith(".")) return "";
  return path.relative(REPO, path.resolve(REPO, path.dirname(file), spec)).split(path.sep).join("/");
}

const exempt = (file: string) => [...NOT_YET_MOVED, ...CLIENT_LIBRARY].some((prefix) => file.startsWith(prefix));
const runtimeFiles = sources("runtime").filter((file) => !exempt(file));

describe("layering", () => {
  it("scans the runtime's sources (the walk found them)", () => {
    expect(runtimeFiles.length).toBeGreaterThan(60);
    expect(runtimeFiles).toContain("runtime/http/auth.ts");
  });

  it("the runtime names no element family", () => {
    const found = runtimeFiles.flatMap((file) => familyLines(file, readFileSync(path.join(REPO, file), "utf8")));
    expect(found).toEqual([]);
  });

  it("the runtime imports no element", () => {
    const found = runtimeFiles.flatMap((file) =>
      specifiers(readFileSync(path.join(REPO, file), "utf8"))
        .filter((spec) => target(file, spec).startsWith("elements/") || spec === "jit-runtime/login")
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(found).toEqual([]);
  });

  it("element code reaches the runtime only through jit-runtime/element", () => {
    const found = sources("elements").flatMap((file) =>
      specifiers(readFileSync(path.join(REPO, file), "utf8"))
        .filter((spec) => target(file, spec).startsWith("runtime/") || spec.startsWith("#runtime/"))
        .map((spec) => `${file} imports ${spec}`),
    );
    expect(found).toEqual([]);
  });

  it("would see a violation: a family word, and an import of an element", () => {
    expect(familyLines("runtime/http/x.ts", 'const svc = "auths.loginTypes.services.AuthSvc";')).toHaveLength(1);
    expect(familyLines("runtime/http/x.ts", "// resolves the user's openId")).toHaveLength(1);
    expect(familyLines("runtime/http/schema.ts", '    case "Password":')).toEqual([]);
    expect(familyLines("runtime/http/other.ts", '    case "Password":')).toHaveLength(1);
    const spec = specifiers('import { LoginError } from "../../elements/auths/loginTypes/Meta/errors.ts";\nconst m = await import("../x.ts");');
    expect(spec.map((s) => target("runtime/http/auth.ts", s))).toEqual(["elements/auths/loginTypes/Meta/errors.ts", "runtime/x.ts"]);
  });
});
