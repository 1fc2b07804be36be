import { readdirSync, readFileSync } from "node:fs";
import path from "node:path";

/**
 * The code blocks of README.md and docs/*.md, with what each one is for. The convention
 * (docs/doc-tests.md explains it to writers): the fence's language, and an HTML comment
 * `<!-- doc-test: ... -->` on the line just before the fence.
 *
 * - ```text, ```jsonc or a fence without a language: output or an illustration; never run.
 * - `file PATH`: the block is the whole file PATH of the reader's project; written there.
 * - `repo-file PATH`: the block is the whole file PATH of this repository; compared with it.
 * - `setup`: making the project folder (`mkdir NAME && cd NAME && npm init -y`, then
 *   `npm install` of the packed tarball); the test makes it that way itself.
 * - `repo`: commands run in a clone of this repository (npm start, npm test, npm pack,
 *   benchmarks); CI runs commands 1 and 2 (.ci/run), the test checks the npm scripts exist.
 * - `demo`: a shell block run in this repository while `npm start` serves on its default ports.
 * - `long-running`: a command that serves until stopped (`npx jit dev`): started in the
 *   background, it must still be running 10 s later; stopped with the page.
 * - a ```sh (or ```bash) block without a comment: run, in order, in the page's project folder.
 * Any other block (```ts, ```js, ```json, ...) needs a `file` or `repo-file` comment.
 */

export type Marker =
  | { kind: "file" | "repo-file"; path: string }
  | { kind: "setup" | "repo" | "demo" | "long-running" };

export interface Block {
  page: string;
  /** 1-based line of the opening fence. */
  line: number;
  lang: string;
  code: string;
  marker: Marker | null;
}

export const ILLUSTRATIVE = new Set(["", "text", "jsonc"]);
const SHELL = new Set(["sh", "bash"]);

export function isShell(block: Block): boolean {
  return SHELL.has(block.lang);
}

/** README.md, then docs/*.md in name order (paths relative to the repository). */
export function docPages(repo: string): string[] {
  const docs = readdirSync(path.join(repo, "docs"))
    .filter((name) => name.endsWith(".md"))
    .sort()
    .map((name) => `docs/${name}`);
  return ["README.md", ...docs];
}

function parseMarker(text: string, where: string): Marker {
  const [kind, ...rest] = text.trim().split(/\s+/);
  const arg = rest.join(" ");
  switch (kind) {
    case "file":
    case "repo-file":
      if (!arg || path.isAbsolute(arg) || arg.split("/").includes("..")) throw new Error(`${where}: "${kind}" needs a relative path inside the folder`);
      return { kind, path: arg };
    case "setup":
    case "repo":
    case "demo":
    case "long-running":
      if (arg) throw new Error(`${where}: "${kind}" takes no argument`);
      return { kind };
    default:
      throw new Error(`${where}: unknown doc-test marker "${text.trim()}"`);
  }
}

export function parseBlocks(page: string, text: string): Block[] {
  const lines = text.split("\n");
  const blocks: Block[] = [];
  for (let i = 0; i < lines.length; i++) {
    const open = /^```(\S*)\s*$/.exec(lines[i]!);
    if (!open) continue;
    const start = i;
    const body: string[] = [];
    for (i++; i < lines.length && lines[i] !== "```"; i++) body.push(lines[i]!);
    if (i >= lines.length) throw new Error(`${page}:${start + 1}: code block never closed`);
    let before = start - 1;
    while (before >= 0 && lines[before]!.trim() === "") before--;
    const comment = before >= 0 ? /^<!--\s*doc-test:(.*)-->\s*$/.exec(lines[before]!) : null;
    blocks.push({
      page,
      line: start + 1,
      lang: open[1]!,
      code: `${body.join("\n")}\n`,
      marker: comment ? parseMarker(comment[1]!, `${page}:${before + 1}`) : null,
    });
  }
  return blocks;
}

export function readBlocks(repo: string, page: string): Block[] {
  return parseBlocks(page, readFileSync(path.join(repo, page), "utf8"));
}

/** What is wrong with a block's labelling, or null. */
export function labelProblem(block: Block): string | null {
  const where = `${block.page}:${block.line}`;
  const m = block.marker;
  if (!m) {
    if (ILLUSTRATIVE.has(block.lang) || isShell(block)) return null;
    return `${where}: a \`\`\`${block.lang} block needs <!-- doc-test: file PATH --> (or repo-file PATH) before it, or the language text for an illustration`;
  }
  if ((m.kind === "setup" || m.kind === "repo" || m.kind === "demo" || m.kind === "long-running") && !isShell(block)) return `${where}: "${m.kind}" marks a shell block, not \`\`\`${block.lang}`;
  if (ILLUSTRATIVE.has(block.lang)) return `${where}: an illustrative block (\`\`\`${block.lang}) carries a doc-test marker`;
  return null;
}

/** The project folder a `setup` block makes: `mkdir NAME && cd NAME && npm init -y`, then `npm install ../jit-runtime-<version>.tgz`. */
export function setupFolder(block: Block, version: string): string {
  const lines = block.code.trim().split("\n").map((l) => l.replace(/\s+#.*$/, "").trim());
  const first = /^mkdir ([\w-]+) && cd \1 && npm init -y$/.exec(lines[0] ?? "");
  const install = `npm install ../jit-runtime-${version}.tgz`;
  if (!first || lines.length !== 2 || lines[1] !== install) {
    throw new Error(`${block.page}:${block.line}: a setup block is exactly "mkdir NAME && cd NAME && npm init -y" and "${install}"`);
  }
  return first[1]!;
}

/**
 * One bash script for a page: its shell blocks in order, its files written where they stand
 * among them (so a block sees the files written before it), background jobs stopped at the end.
 */
export function pageScript(blocks: Block[], setupName: string | null): string {
  const out = [
    "set -euo pipefail",
    // Job control: each background server gets its own process group, stopped as a whole.
    "set -m",
    'trap \'for job in $(jobs -p); do kill -TERM -- "-$job" 2>/dev/null || true; done; wait 2>/dev/null || true\' EXIT',
  ];
  for (const block of blocks) {
    const m = block.marker;
    out.push(`# ---- ${block.page}:${block.line}`);
    if (m?.kind === "setup") out.push(`cd ${setupName}`);
    else if (m?.kind === "file") {
      const delimiter = "DOC_TEST_FILE_END";
      if (block.code.includes(delimiter)) throw new Error(`${block.page}:${block.line}: the block contains ${delimiter}`);
      out.push(`mkdir -p "$(dirname '${m.path}')"`, `cat > '${m.path}' <<'${delimiter}'`, block.code.replace(/\n$/, ""), delimiter);
    } else if (m?.kind === "long-running") {
      out.push(`{\n${block.code}} &`, "DOC_TEST_SERVING=$!", "sleep 10", 'kill -0 "$DOC_TEST_SERVING"   # still serving');
    } else if (!m && isShell(block)) out.push(block.code);
  }
  return `${out.join("\n")}\n`;
}

/** `npm run X` / `npm start` / `npm test` in a repo block, as script names. */
export function npmScripts(block: Block): string[] {
  const names: string[] = [];
  for (const m of block.code.matchAll(/\bnpm (?:run ([\w:-]+)|(start|test)\b)/g)) names.push(m[1] ?? m[2]!);
  return names;
}
