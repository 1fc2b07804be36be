import { spawn, type ChildProcess } from "node:child_process";
import path from "node:path";
import { REPO } from "./http.ts";

/** A child process whose stdout/stderr are collected, with a wait for a line and for exit. */
export interface Child {
  proc: ChildProcess;
  stdout(): string;
  stderr(): string;
  /** Resolves with the first match of `pattern` on stdout (rejects on exit or timeout). */
  waitFor(pattern: RegExp, timeoutMs?: number): Promise<RegExpMatchArray>;
  exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  kill(signal?: NodeJS.Signals): void;
}

export function startChild(args: string[], env: Record<string, string | undefined>, cwd = REPO): Child {
  const proc = spawn(process.execPath, args, { cwd, env: { ...process.env, ...env }, stdio: ["ignore", "pipe", "pipe"] });
  let out = "";
  let err = "";
  proc.stdout!.on("data", (c: Buffer) => (out += c.toString("utf8")));
  proc.stderr!.on("data", (c: Buffer) => (err += c.toString("utf8")));
  const exited = new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => proc.on("exit", (code, signal) => resolve({ code, signal })));
  return {
    proc,
    stdout: () => out,
    stderr: () => err,
    exited,
    kill: (signal = "SIGTERM") => {
      if (proc.exitCode === null && proc.signalCode === null) proc.kill(signal);
    },
    waitFor(pattern, timeoutMs = 20_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => done(new Error(`timed out waiting for ${pattern}; stderr:\n${err.slice(-2000)}`)), timeoutMs);
        const check = () => {
          const match = pattern.exec(out);
          if (match) done(null, match);
        };
        const onExit = () => done(new Error(`process exited before ${pattern}; stderr:\n${err.slice(-2000)}`));
        function done(error: Error | null, match?: RegExpMatchArray) {
          clearTimeout(timer);
          proc.stdout!.off("data", check);
          proc.off("exit", onExit);
          if (error) reject(error);
          else resolve(match!);
        }
        proc.stdout!.on("data", check);
        proc.on("exit", onExit);
        check();
      });
    },
  };
}

export const JIT_BIN = path.join(REPO, "cli", "bin.js");
