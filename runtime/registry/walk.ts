import { readdirSync, readFileSync, type Dirent } from "node:fs";
import path from "node:path";
import { problem, type Problem } from "../errors/index.ts";
import { parseJson } from "./json.ts";

/** A JSON file read and parsed; `value` is undefined when it could not be (see problems). */
export interface JsonFile {
  file: string;
  value: unknown;
  missing?: boolean;
  /** The text contains "${": it may reference environment variables. */
  envRefs?: boolean;
}

/** One e.json as found on disk, before resolution. */
export interface RawElement {
  layer: string;
  fullName: string;
  dir: string;
  file: string;
  /** Names of the plain files in the element folder (to find code and schemas without a stat). */
  files: string[];
  decl: unknown;
  /** The business config named by frontBundleEntry, when it names a .json file. */
  business?: JsonFile;
  eSchema?: JsonFile;
  configSchema?: JsonFile;
}

/*
 * Declarations are read with synchronous fs calls on purpose: loading is start-up work, and
 * for thousands of small files readFileSync is several times faster than fs.promises (each
 * promise readFile takes four thread-pool round trips on a pool of four threads). See
 * bench/registry.ts.
 */

export function readJsonFile(file: string, problems: Problem[], optional = false): JsonFile {
  let text: string;
  try {
    text = readFileSync(file, "utf8");
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "ENOENT" && optional) return { file, value: undefined, missing: true };
    problems.push(problem("FILE_UNREADABLE", { file, reason: fsReason(err) }, { file }));
    return { file, value: undefined };
  }
  const parsed = parseJson(text);
  if (parsed.ok) return text.includes("${") ? { file, value: parsed.value, envRefs: true } : { file, value: parsed.value };
  problems.push(problem("JSON_MALFORMED", { file, line: parsed.line, column: parsed.column, reason: parsed.reason }, { file }));
  return { file, value: undefined };
}

/** "EISDIR (is a directory)"-style text: the errno code and its meaning, never a stack. */
function fsReason(err: unknown): string {
  const { code, syscall } = err as NodeJS.ErrnoException;
  const meaning: Record<string, string> = { EISDIR: "is a directory", EACCES: "permission denied", ENOTDIR: "a path part is not a directory", ENOENT: "does not exist" };
  return code ? `${code} (${meaning[code] ?? syscall ?? "file system error"})` : String(err);
}

function isBusinessJson(entry: unknown): entry is string {
  return typeof entry === "string" && entry.endsWith(".json");
}

function readElement(layer: string, dir: string, fullName: string, files: string[], problems: Problem[]): RawElement {
  const file = dir + path.sep + "e.json";
  const json = readJsonFile(file, problems);
  const raw: RawElement = { layer, fullName, dir, file, files, decl: json.value };
  const entry = (json.value as { frontBundleEntry?: unknown } | undefined)?.frontBundleEntry;
  if (isBusinessJson(entry)) raw.business = readJsonFile(path.resolve(dir, entry), problems, true);
  if (files.includes("e.schema.json")) raw.eSchema = readJsonFile(dir + path.sep + "e.schema.json", problems);
  if (files.includes("config.schema.json")) raw.configSchema = readJsonFile(dir + path.sep + "config.schema.json", problems);
  return raw;
}

/**
 * Walks one `elements/` root: every folder holding an e.json is an element (fullName = its
 * path below the root, `/` → `.`), and element folders may nest. A missing root is empty.
 */
export function walkElements(root: string, layer: string, problems: Problem[]): RawElement[] {
  const out: RawElement[] = [];
  const visit = (dir: string, rel: string): void => {
    let entries: Dirent[];
    try {
      entries = readdirSync(dir, { withFileTypes: true });
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code === "ENOENT" && rel === "") return;
      problems.push(problem("FILE_UNREADABLE", { file: dir, reason: fsReason(err) }, { file: dir }));
      return;
    }
    const files: string[] = [];
    const subdirs: string[] = [];
    for (const entry of entries) {
      if (entry.isDirectory()) {
        const name = entry.name;
        if (name.charCodeAt(0) !== 46 && name !== "node_modules") subdirs.push(name);
      } else files.push(entry.name);
    }
    if (rel !== "" && files.includes("e.json")) out.push(readElement(layer, dir, rel, files, problems));
    for (const name of subdirs) visit(dir + path.sep + name, rel === "" ? name : rel + "." + name);
  };
  visit(root, "");
  return out;
}
