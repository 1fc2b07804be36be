import { execFile } from "node:child_process";
import path from "node:path";
import { REPO_ROOT } from "./loginFixture.ts";

export interface CliResult {
  code: number;
  stdout: string;
  stderr: string;
}

/**
 * Runs the real `jit` CLI as a child process. Asynchronous on purpose: the fake WeChat
 * server the child talks to runs in the test's own event loop.
 */
export function runJit(args: string[], env: Record<string, string>): Promise<CliResult> {
  return new Promise((resolve) => {
    execFile(
      process.execPath,
      [path.join(REPO_ROOT, "cli", "bin.js"), ...args],
      { cwd: REPO_ROOT, env: { ...process.env, JIT_LOG_LEVEL: "info", ...env }, timeout: 30_000 },
      (error, stdout, stderr) => {
        const code = error ? (typeof error.code === "number" ? error.code : 1) : 0;
        resolve({ code, stdout, stderr });
      },
    );
  });
}

/** The last line of stderr that is an `{"error": ...}` object (log lines may precede it). */
export function errorOf(stderr: string): { code: string; message: string } | undefined {
  for (const line of stderr.trim().split("\n").reverse()) {
    try {
      const parsed = JSON.parse(line) as { error?: { code: string; message: string } };
      if (parsed.error) return parsed.error;
    } catch {
      // not JSON: keep looking
    }
  }
  return undefined;
}
