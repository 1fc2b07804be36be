/**
 * The demo quick start (`npm start`): in one process, the fake WeChat server on 127.0.0.1
 * and `jit serve` for apps/demo on the embedded SQLite default (<root>/.jit/demo.sqlite, or
 * JIT_DB), then the curl lines that walk a new user through the login flow.
 *
 * Ports: PORT / --port (default 8080) and FAKE_WECHAT_PORT / --fake-port (default 8081);
 * 0 picks free ones. Ctrl-C or SIGTERM stops both gracefully.
 */
import path from "node:path";
import { fileURLToPath } from "node:url";
import { isJitError, loadApp, serveApp } from "jit-runtime";
import { resolveAdminToken } from "../runtime/http/console/adminToken.ts";
import { consoleLine } from "../cli/commands/serve.ts";
import { sqliteWriterFromEnv } from "../runtime/database/sqlite/open.ts";
import { parsePort } from "../cli/kit.ts";
import { elementPath } from "../runtime/http/routes.ts";
import { miniProgramsOf, startFakeWeChatServer } from "jit-runtime/testing";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const LOGIN = "auths.loginTypes.myWeChatMiniLogin";
const PASSWORD = "auths.loginTypes.myPasswordLogin";
const AUTH_SVC = "auths.loginTypes.services.AuthSvc";

function flag(name: string): string | undefined {
  const at = process.argv.indexOf(name);
  return at === -1 ? undefined : process.argv[at + 1];
}

/** Shell lines a reader can paste one by one; sed pulls a field out of the JSON answer. */
function walkthrough(api: string, fakeUrl: string, appId: string): string {
  const pick = (field: string) => `sed -E 's/.*"${field}":"?([^",}]*)"?.*/\\1/'`;
  const json = `-H 'content-type: application/json'`;
  const login = `${api}${elementPath("demo", LOGIN)}`;
  const auth = `${api}${elementPath("demo", AUTH_SVC)}`;
  const password = `${api}${elementPath("demo", PASSWORD)}`;
  const credentials = `{\\"username\\":\\"$PW_USER\\",\\"password\\":\\"correct horse battery staple\\"}`;
  const mint = `curl -s -X POST ${fakeUrl}/__fake/codes ${json} -d "{\\"appId\\":\\"${appId}\\",\\"openId\\":\\"$OPENID\\"}" | ${pick("code")}`;
  return [
    `# 0. a WeChat user new to this app (a fresh openId each time you paste this)`,
    `OPENID=demo-user-$(date +%s)`,
    `# 1. wx.login() in the mini program gives a code; here the fake WeChat server mints one`,
    `CODE=$(${mint})`,
    `# 2. getLoginCode: a new WeChat user gets a bindCode (valid 5 minutes)`,
    `R=$(curl -s -X POST ${login}/getLoginCode ${json} -d "{\\"code\\":\\"$CODE\\"}"); echo "$R"; BIND=$(echo "$R" | ${pick("bindCode")})`,
    `# 3. register: creates the user, binds the WeChat identity, and answers its first loginCode`,
    `R=$(curl -s -X POST ${login}/register ${json} -d "{\\"bindCode\\":\\"$BIND\\"}"); echo "$R"; LOGIN_CODE=$(echo "$R" | ${pick("loginCode")})`,
    `# 4. a wx.login code answers once: the same code again is refused (WECHAT_CODE_USED)`,
    `curl -s -X POST ${login}/getLoginCode ${json} -d "{\\"code\\":\\"$CODE\\"}"; echo`,
    `# 5. loginByCode: the loginCode becomes a session token`,
    `R=$(curl -s -X POST ${auth}/loginByCode ${json} -d "{\\"loginCode\\":\\"$LOGIN_CODE\\"}"); echo "$R"; TOKEN=$(echo "$R" | ${pick("token")}); USER_ID=$(echo "$R" | ${pick("userId")})`,
    `# 6. with the token: who am I`,
    `curl -s -X POST ${auth}/getCurrentUser -H "authorization: Bearer $TOKEN"; echo`,
    `# 6b. the phone button gives a phone code (here the fake mints one); getPhoneNumber stores the number on the logged-in user`,
    `PHONE_CODE=$(curl -s -X POST ${fakeUrl}/__fake/phone-codes ${json} -d "{\\"appId\\":\\"${appId}\\",\\"purePhoneNumber\\":\\"1380013$(date +%S)$(date +%S)\\"}" | ${pick("code")})`,
    `curl -s -X POST ${login}/getPhoneNumber ${json} -H "authorization: Bearer $TOKEN" -d "{\\"code\\":\\"$PHONE_CODE\\"}"; echo`,
    `# 7. next login: a fresh code gives a loginCode and the user's organisations`,
    `CODE=$(${mint})`,
    `curl -s -X POST ${login}/getLoginCode ${json} -d "{\\"code\\":\\"$CODE\\"}"; echo`,
    `# 8. unbind (a user may only act on themself): the identity's sessions end with it`,
    `curl -s -X POST ${login}/unbind ${json} -H "authorization: Bearer $TOKEN" -d "{\\"userId\\":$USER_ID}"; echo`,
    `curl -s -X POST ${auth}/getCurrentUser -H "authorization: Bearer $TOKEN"; echo`,
    `# 9. the WeChat user is new again: a fresh code gives a bindCode (bind needs a session opened another way)`,
    `CODE=$(${mint})`,
    `curl -s -X POST ${login}/getLoginCode ${json} -d "{\\"code\\":\\"$CODE\\"}"; echo`,
    `# 10. the password login Type: register a username and password (its answer carries a loginCode)`,
    `PW_USER=demo-$(date +%s)`,
    `curl -s -X POST ${password}/register ${json} -d "${credentials}"; echo`,
    `# 11. later logins by password: the same answer as WeChat's getLoginCode, redeemed by loginByCode`,
    `R=$(curl -s -X POST ${password}/getLoginCode ${json} -d "${credentials}"); echo "$R"; LOGIN_CODE=$(echo "$R" | ${pick("loginCode")})`,
    `R=$(curl -s -X POST ${auth}/loginByCode ${json} -d "{\\"loginCode\\":\\"$LOGIN_CODE\\"}"); echo "$R"; TOKEN=$(echo "$R" | ${pick("token")}); USER_ID=$(echo "$R" | ${pick("userId")})`,
    `# 12. with the password session, bind the WeChat identity (a fresh code): WeChat now logs in this same user`,
    `CODE=$(${mint})`,
    `curl -s -X POST ${login}/bind ${json} -H "authorization: Bearer $TOKEN" -d "{\\"userId\\":$USER_ID,\\"code\\":\\"$CODE\\"}"; echo`,
    `CODE=$(${mint})`,
    `curl -s -X POST ${login}/getLoginCode ${json} -d "{\\"code\\":\\"$CODE\\"}"; echo`,
  ].join("\n");
}

async function main(): Promise<void> {
  // Request logs are JSON lines on stderr; keep the walkthrough readable unless asked.
  if (!process.env.JIT_LOG_LEVEL?.trim()) process.env.JIT_LOG_LEVEL = "warn";
  const port = parsePort(flag("--port") ?? process.env.PORT ?? 8080, "PORT");
  const fakePort = parsePort(flag("--fake-port") ?? process.env.FAKE_WECHAT_PORT ?? 8081, "FAKE_WECHAT_PORT");
  const host = "127.0.0.1";

  const fake = await startFakeWeChatServer({ host, port: fakePort });
  const env = { ...process.env, WECHAT_API_BASE: fake.url };
  // As `jit serve` does: the store's writes on a writer thread.
  const app = await loadApp({ root: ROOT, appId: "demo", env, sqliteWriter: sqliteWriterFromEnv(env, "worker") }).catch(async (err) => {
    await fake.close();
    throw err;
  });
  for (const { appId, appSecret } of miniProgramsOf(app)) fake.addApp(appId, appSecret);

  // serveApp opens the database and loads the master key first: a bad one stops the demo
  // here, not at the first login.
  // The console (with its simulated mini program) is the demo's front door.
  const adminToken = resolveAdminToken(env);
  const serving = await serveApp({ app, port, host, env, docs: true, console: { adminToken }, after: () => fake.close() }).catch(async (err) => {
    await app.close();
    await fake.close();
    throw err;
  });
  const appId = app.getElementDefine(LOGIN).config.authConfig as { appId: string };
  process.stdout.write(
    [
      `demo: jit serve for app "demo" listening on ${serving.url}`,
      "",
      "Open the console: log a simulated mini program in, watch each step, see the user appear:",
      `  ${consoleLine(serving.url, adminToken.takeGenerated()).replace(/^jit serve: console at /, "")}`,
      "",
      `demo: fake WeChat server on ${fake.url} (WECHAT_API_BASE)`,
      `demo: data in ${app.database}; health: curl -s ${serving.url}/healthz`,
      `demo: API page ${serving.url}/docs (OpenAPI: ${serving.url}/openapi.json)`,
      "",
      "Or walk a new user through the login flow with curl (paste into a POSIX shell):",
      "",
      walkthrough(serving.url, fake.url, appId.appId),
      "",
      "Stop with Ctrl-C. Request logs: JIT_LOG_LEVEL=info npm start",
      "",
    ].join("\n"),
  );
  stopWhenOrphaned(() => void serving.stop());
  process.exitCode = await serving.stopped;
}

/**
 * `npm start` runs us under `sh -c`, and the SIGTERM npm passes on stops that shell, not us:
 * we would keep the ports and the database open with no parent. So when the process that
 * started us is gone, stop as on SIGTERM. (Only here: `nohup jit serve &` must outlive its
 * shell.)
 */
function stopWhenOrphaned(stop: () => void): void {
  const parent = (globalThis as { jitDemoParentPid?: number }).jitDemoParentPid ?? process.ppid;
  const watch = setInterval(() => {
    if (process.ppid === parent) return;
    clearInterval(watch);
    process.stderr.write("demo: the process that started it is gone (npm stopped?): shutting down\n");
    stop();
  }, 250);
  watch.unref();
}

main().catch((err: unknown) => {
  process.stderr.write(`${isJitError(err) ? `${err.code} ${err.message}` : `demo failed: ${err instanceof Error ? err.message : String(err)}`}\n`);
  process.exit(1);
});
