import { Command, CommanderError } from "commander";
import { commands } from "./commands/index.ts";
import { createKit, exitCodeOf, printError } from "./kit.ts";

/** The `jit` program: global options, every sub-command, usage errors → exit 2. */
export function buildProgram(): Command {
  const program = new Command("jit")
    .description("JitAi-style element runtime")
    .option("--root <dir>", "your project folder: holds apps/ (and optionally an elements/ layer)", process.cwd())
    .option("--app <id>", "app id under apps/ (default: the only app)")
    .option("--debug", "print stack traces", false)
    .showSuggestionAfterError()
    .exitOverride();
  const kit = createKit(program);
  for (const command of commands) command.register(program, kit);
  // Sub-commands inherit exitOverride so their usage errors also reach us.
  for (const sub of program.commands) sub.exitOverride();
  return program;
}

try {
  await buildProgram().parseAsync(process.argv);
} catch (err) {
  if (err instanceof CommanderError) {
    // Help and version requests are not errors; commander already printed the message.
    const ok = err.code === "commander.helpDisplayed" || err.code === "commander.version";
    process.exit(ok ? 0 : 2);
  }
  printError(err, process.argv.includes("--debug"));
  process.exit(exitCodeOf(err));
}
