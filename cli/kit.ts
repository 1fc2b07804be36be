import type { Command } from "commander";
import { loadApp } from "../runtime/app/loadApp.ts";
import { chooseAppIds } from "../runtime/registry/apps.ts";
import type { App } from "../runtime/app/App.ts";
import type { SqliteWriter } from "../runtime/database/sqlite/open.ts";
import { CliError, isJitError, type JitError, type Problem } from "../runtime/errors/index.ts";
import { resolveLogLevel } from "../runtime/logging/logger.ts";

export interface GlobalOptions {
  root: string;
  app?: string;
  debug: boolean;
}

/** What every sub-command gets: global options, app loading, output and exit handling. */
export interface CliKit {
  options(): GlobalOptions;
  /** Loads the app chosen by --root/--app; closed by `run` before the process exits. */
  loadApp(extra?: { dbFile?: string | undefined; sqliteWriter?: SqliteWriter; appId?: string }): Promise<App>;
  /** The apps named by `--app a,b`, else every app of the root (see chooseAppIds). */
  appIds(): Promise<string[]>;
  /** Prints a value as 2-space JSON on stdout. */
  printJson(value: unknown): void;
  /**
   * Runs a command action and exits: 0 (or the returned number) on success, 2 for a usage
   * error, 1 for any other error, printed one line per problem (no stack unless --debug).
   */
  run(action: () => Promise<number | void>): Promise<never>;
}

/** A CLI argument: JSON when it parses as JSON, else the string itself. */
export function parseCliArg(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return text;
  }
}

/** `CODE file#pointer: message`, without repeating the location most messages start with. */
export function problemLine(p: Problem): string {
  if (!p.file) return `${p.code} ${p.message}`;
  let rest = p.message;
  if (rest.startsWith(p.file)) {
    rest = rest.slice(p.file.length);
    if (rest.startsWith("#")) rest = rest.slice(rest.indexOf(": ") + 1 || rest.length);
    if (rest.startsWith(":")) rest = rest.slice(1);
    rest = rest.trimStart();
  }
  return `${p.code} ${p.file}${p.pointer ? `#${p.pointer}` : ""}: ${rest}`;
}

/** Exit code for an error: 2 for usage errors, 1 otherwise. */
export function exitCodeOf(err: unknown): number {
  // Choosing an app is part of the command line: naming none among several is a usage error.
  if (isJitError(err) && (err.code === "USAGE_ERROR" || err.code === "APP_AMBIGUOUS")) return 2;
  const commanderCode = (err as { code?: unknown } | null)?.code;
  if (typeof commanderCode === "string" && commanderCode.startsWith("commander.")) return 2;
  return 1;
}

/**
 * Prints an error on stderr: the error line, then one line per problem. Only registered
 * errors' messages are printed (they never carry secrets); an unexpected error prints its
 * message too, and its stack only with --debug.
 */
export function printError(err: unknown, debug = false): void {
  const lines: string[] = [];
  if (isJitError(err)) {
    const jit = err as JitError;
    lines.push(`${jit.code} ${jit.message}`);
    for (const p of jit.problems) lines.push(problemLine(p));
    if (debug && jit.stack) lines.push(jit.stack);
  } else {
    // An unexpected error's message may carry a secret (got puts the request URL, with
    // `secret=`, in its messages), so only system errors (a path and a syscall) are shown.
    const sys = err as NodeJS.ErrnoException | null;
    const isSystem = err instanceof Error && typeof sys?.syscall === "string";
    lines.push(isSystem ? `error: ${sys!.message}` : "INTERNAL_ERROR unexpected error (run with --debug for details)");
    if (debug) lines.push(err instanceof Error ? (err.stack ?? err.message) : String(err));
  }
  process.stderr.write(`${lines.join("\n")}\n`);
}

export function createKit(program: Command): CliKit {
  const opened: App[] = [];
  const options = (): GlobalOptions => {
    const o = program.opts<{ root?: string; app?: string; debug?: boolean }>();
    return { root: o.root ?? process.cwd(), ...(o.app ? { app: o.app } : {}), debug: o.debug === true };
  };
  return {
    options,
    async loadApp(extra = {}) {
      const o = options();
      const appId = extra.appId ?? o.app;
      const app = await loadApp({ root: o.root, ...(appId ? { appId } : {}), ...(extra.dbFile ? { dbFile: extra.dbFile } : {}), ...(extra.sqliteWriter ? { sqliteWriter: extra.sqliteWriter } : {}) });
      opened.push(app);
      return app;
    },
    appIds() {
      const o = options();
      return chooseAppIds(o.root, o.app);
    },
    printJson(value) {
      process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
    },
    async run(action) {
      let code: number;
      try {
        // Every command logs through it; refuse a bad JIT_LOG_LEVEL before doing any work
        // (wechat-fake, for one, would otherwise start with the app's log setup failing).
        resolveLogLevel();
        const result = await action();
        code = typeof result === "number" ? result : 0;
      } catch (err) {
        printError(err, options().debug);
        code = exitCodeOf(err);
      }
      await Promise.all(opened.splice(0).map((app) => app.close().catch(() => undefined)));
      process.exit(code);
    },
  };
}

/** A usage error raised by a command's own argument checks (exit code 2). */
export function usageError(reason: string): JitError {
  return new CliError("USAGE_ERROR", { reason });
}

/** A TCP port from a flag or an environment variable; `source` names it in the usage error. */
export function parsePort(text: string | number, source: string): number {
  const port = typeof text === "number" ? text : Number(text);
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw usageError(`${source} must be a port number 0-65535`);
  return port;
}
