import { randomBytes } from "node:crypto";
import { access, appendFile, mkdir, readFile, writeFile } from "node:fs/promises";
import path from "node:path";
import type { Command } from "commander";
import { CliError } from "../../runtime/errors/index.ts";
import { usageError, type CliKit } from "../kit.ts";
import { MINIPROGRAM_DIR, miniProgramFiles } from "./initMiniProgram.ts";
import { initialTypesFile } from "../typesFile.ts";
import { TYPES_FILE } from "./types.ts";

const APP_ID = /^[A-Za-z0-9_-]+$/;
const SECRET_VARIABLE = "WECHAT_APP_SECRET";

/**
 * `jit init [appId]`: a new app in the root (default: the current folder) with one WeChat
 * mini-program login instance whose AppSecret comes from the environment, a .gitignore entry
 * for .jit/, and the commands to try it against the bundled fake WeChat server.
 */
export function register(program: Command, kit: CliKit): void {
  program
    .command("init [appId]")
    .description("create apps/<appId>/ with a WeChat mini-program login instance (default app id: shop)")
    .option("--miniprogram", `also write a WeChat mini-program project in ${MINIPROGRAM_DIR}/ that logs in against jit serve`)
    .option("--api-base <url>", "where the mini program reaches jit serve", DEFAULT_API_BASE)
    .action((appId: string | undefined, opts: { miniprogram?: boolean; apiBase: string }) =>
      kit.run(() => init(kit.options().root, appId ?? "shop", opts.miniprogram === true ? checkedApiBase(opts.apiBase) : null)),
    );
}

const DEFAULT_API_BASE = "http://127.0.0.1:8080";

function checkedApiBase(text: string): string {
  let url: URL;
  try {
    url = new URL(text);
  } catch {
    throw usageError(`--api-base "${text.slice(0, 100)}" is not a URL (e.g. ${DEFAULT_API_BASE})`);
  }
  if (url.protocol !== "http:" && url.protocol !== "https:") throw usageError(`--api-base must be an http:// or https:// URL, got ${url.protocol}`);
  return url.href.replace(/\/+$/, "");
}

interface Scaffold {
  /** `shared`: a file of the root, not of the app; kept as it is when it exists (a second app). */
  files: Array<{ rel: string; content: string; shared?: boolean }>;
  loginFullName: string;
  miniAppId: string;
}

/** The files of a new app; `miniAppId` is a placeholder AppID the fake server accepts. */
export function scaffold(appId: string): Scaffold {
  const name = /^[A-Za-z][A-Za-z0-9]*$/.test(appId) ? `${appId}Login` : "wechatMiniLogin";
  const miniAppId = `wx${randomBytes(8).toString("hex")}`;
  const dir = `apps/${appId}/elements/auths/loginTypes/${name}`;
  const json = (value: unknown) => `${JSON.stringify(value, null, 2)}\n`;
  return {
    loginFullName: `auths.loginTypes.${name}`,
    miniAppId,
    files: [
      { rel: `apps/${appId}/app.json`, content: json({ appId, title: appId, version: "0.1.0", extends: [] }) },
      {
        rel: `${dir}/e.json`,
        content: json({
          type: "auths.loginTypes.WeChatMiniType",
          title: "WeChat mini program login",
          allowRegister: 1,
          backendBundleEntry: ".",
          frontBundleEntry: `./${name}.json`,
        }),
      },
      // The AppID is a placeholder: put your mini program's here. The secret stays out of the
      // folder: it is read from the environment when the app loads.
      { rel: `${dir}/${name}.json`, content: json({ authConfig: { appId: miniAppId, appSecret: `\${${SECRET_VARIABLE}}` } }) },
      // app.getElement typed by fullName; `jit types` rewrites it as models and elements are added.
      { rel: TYPES_FILE, content: initialTypesFile(appId, `auths.loginTypes.${name}`), shared: true },
    ],
  };
}

async function exists(file: string): Promise<boolean> {
  return access(file).then(
    () => true,
    () => false,
  );
}

async function init(root: string, appId: string, apiBase: string | null): Promise<void> {
  if (!APP_ID.test(appId) || appId === "platform") {
    throw usageError(`app id "${appId}" must be letters, digits, _ or - (and not "platform")`);
  }
  const plan = scaffold(appId);
  if (apiBase) plan.files.push(...miniProgramFiles({ appId, miniAppId: plan.miniAppId, loginFullName: plan.loginFullName, apiBase }));
  // Check every file first, so a refusal writes nothing.
  const writing: typeof plan.files = [];
  for (const file of plan.files) {
    const there = await exists(path.join(root, file.rel));
    if (there && !file.shared) throw new CliError("INIT_FILE_EXISTS", { file: path.join(root, file.rel) });
    if (!there) writing.push(file);
  }
  for (const { rel, content } of writing) {
    const file = path.join(root, rel);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(file, content, { flag: "wx" });
  }
  const ignore = await ensureIgnored(root);
  const created = [...writing.map((f) => f.rel), ...(ignore ? [ignore] : [])];
  const miniProgram = apiBase
    ? [
        "",
        `the mini program: open ${MINIPROGRAM_DIR}/ in WeChat DevTools. Its AppID (${MINIPROGRAM_DIR}/project.config.json) is the same`,
        `placeholder: put your mini program's there too. It logs in against ${apiBase} (${MINIPROGRAM_DIR}/config.js).`,
      ]
    : [];
  process.stdout.write(`${[...created.map((rel) => `created ${rel}`), "", ...nextSteps(appId, plan), ...miniProgram].join("\n")}\n`);
}

/** Adds `.jit/` (database, master key) to the root's .gitignore, appending to one that exists. */
async function ensureIgnored(root: string): Promise<string | undefined> {
  const file = path.join(root, ".gitignore");
  const text = await readFile(file, "utf8").catch(() => undefined);
  if (text === undefined) {
    await writeFile(file, ".jit/\n", { flag: "wx" });
    return ".gitignore";
  }
  if (text.split(/\r?\n/).some((line) => line.trim() === ".jit/" || line.trim() === ".jit")) return undefined;
  await appendFile(file, `${text.endsWith("\n") || text === "" ? "" : "\n"}.jit/\n`);
  return ".gitignore (added .jit/)";
}

function nextSteps(appId: string, plan: Scaffold): string[] {
  const api = `http://127.0.0.1:8080/api/${appId}/${plan.loginFullName.replaceAll(".", "/")}`;
  const json = "-H 'content-type: application/json'";
  return [
    "next, in this folder (the AppID is a placeholder: put your mini program's in",
    `${plan.files[2]!.rel}; the AppSecret is read from ${SECRET_VARIABLE}):`,
    "",
    `  export ${SECRET_VARIABLE}=any-secret-for-the-fake     # your real AppSecret in production`,
    `  npx jit --app ${appId} validate`,
    `  npx jit --app ${appId} wechat-fake --port 8081 &       # the bundled fake WeChat server, knows this app's AppID`,
    `  WECHAT_API_BASE=http://127.0.0.1:8081 npx jit --app ${appId} serve --port 8080 &`,
    `  CODE=$(curl -s -X POST http://127.0.0.1:8081/__fake/codes ${json} -d '{"appId":"${plan.miniAppId}","openId":"user-1"}' | sed -E 's/.*"code":"([^"]*)".*/\\1/')`,
    `  curl -s -X POST ${api}/getLoginCode ${json} -d "{\\"code\\":\\"$CODE\\"}"`,
    "",
    `or call it without a server: WECHAT_API_BASE=http://127.0.0.1:8081 npx jit --app ${appId} call ${plan.loginFullName} getLoginCode "$CODE"`,
    "",
    `${TYPES_FILE} types app.getElement by fullName: rerun \`npx jit --app ${appId} types\` after adding or changing a model or an element.`,
  ];
}
