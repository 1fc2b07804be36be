import type { Command } from "commander";
import { runWithCallContext } from "../../runtime/context/callContext.ts";
import { CliError, ElementError, isJitError } from "../../runtime/errors/index.ts";
import { makeSessionResolver } from "../../runtime/http/auth.ts";
import { parseCliArg, type CliKit } from "../kit.ts";

interface CallOptions {
  json?: boolean;
  db?: string;
  token?: string;
  as?: string;
}

/**
 * `jit call <fullName> <method> [args...]`: calls a function declared in the element's
 * functionList, like a front door would, and prints the result as JSON on stdout. Each arg
 * is JSON when it parses as JSON, else a string. An error prints {"error":{code,message}}
 * on stderr and exits 1. Only the error's safe fields are printed, never an unknown
 * error's message (it might carry a request URL with a secret).
 */
export function register(program: Command, kit: CliKit): void {
  program
    .command("call")
    .description("call an element function: jit call auths.loginTypes.myWeChatMiniLogin getLoginCode CODE")
    .argument("<fullName>", "element fullName, e.g. auths.loginTypes.myWeChatMiniLogin")
    .argument("<method>", "a function of the element's functionList")
    .argument("[args...]", "arguments in declared order (JSON when they parse, else strings); optional ones may be omitted")
    .option("--json", "print the result as one line of JSON (default: indented)")
    .option("--db <file|url>", "SQLite file or postgres:// URL (else JIT_DB, else DATABASE_URL, else <root>/.jit/<appId>.sqlite)")
    .option("--as <userId>", "call as this user: element code sees them through currentUser() (an operator's command, no session needed)")
    .option("--token <token>", "session token for functions that act for the caller (AuthSvc.getCurrentUser, logout); prefer $JIT_TOKEN, which ps does not show")
    // Codes and tokens are base64url and may start with "-": such an argument is an
    // argument, not an unknown option (commander keeps the order and still parses our options).
    .allowUnknownOption()
    .action((fullName: string, method: string, rawArgs: string[], opts: CallOptions) =>
      kit.run(() => callOnce(kit, fullName, method, rawArgs, opts)),
    );
}

async function callOnce(kit: CliKit, fullName: string, method: string, rawArgs: string[], opts: CallOptions): Promise<number> {
  let app: Awaited<ReturnType<CliKit["loadApp"]>> | undefined;
  try {
    app = await kit.loadApp({ dbFile: opts.db });
    const define = app.getElementDefine(fullName);
    const element = app.getElement<Record<string, unknown>>(fullName);
    const fn = define.functionList.find((f) => f.name === method);
    const target = element?.[method];
    if (!fn || typeof target !== "function") throw new ElementError("FUNCTION_NOT_FOUND", { fullName, function: method });
    const args = rawArgs.map((text) => parseCliArg(text));
    const asUser = opts.as === undefined ? undefined : Number(opts.as);
    if (asUser !== undefined && (!/^\d{1,15}$/.test(opts.as!) || !Number.isSafeInteger(asUser))) {
      throw new CliError("USAGE_ERROR", { reason: "--as takes a user id (a whole number)" });
    }
    const loaded = app;
    const token = opts.token ?? (process.env.JIT_TOKEN || undefined);
    // The caller, as currentUser() sees it: --as, else the session behind --token for a
    // function that needs a login (resolved as the HTTP layer does: TOKEN_INVALID if unknown).
    let caller: { userId: number; corpId: string | null } | Record<string, never> = {};
    if (asUser !== undefined) caller = { userId: asUser, corpId: null };
    else if (token !== undefined && fn.loginRequired !== 0) {
      const { userId, corpId } = await makeSessionResolver(app)(token, "cli");
      caller = { userId, corpId };
    }
    const result: unknown = await runWithCallContext({ via: "cli", ...(token !== undefined ? { token } : {}), ...caller }, () =>
      (target as (...a: unknown[]) => unknown).apply(element, args),
    );
    const text = JSON.stringify(result ?? null, null, opts.json ? undefined : 2);
    await loaded.close();
    app = undefined;
    await write(process.stdout, `${text}\n`);
    return 0;
  } catch (err) {
    const body = isJitError(err)
      ? { code: err.code, message: err.message }
      : { code: "INTERNAL_ERROR", message: "internal error (run with --debug for details)" };
    if (!isJitError(err) && kit.options().debug) console.error(err);
    await write(process.stderr, `${JSON.stringify({ error: body })}\n`);
    return 1;
  } finally {
    await app?.close().catch(() => undefined);
  }
}

function write(stream: NodeJS.WriteStream, text: string): Promise<void> {
  return new Promise((resolve) => stream.write(text, () => resolve()));
}
