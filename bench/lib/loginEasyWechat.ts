/**
 * The server a Node developer would write by hand today, for the login bench: Fastify with
 * node-easywechat 3.x (the most used Node WeChat SDK) calling codeToSession, then the same
 * reads and writes as getLoginCode (handLogin.ts), issuing a login code. It does not do what
 * jit serve adds: no exactly-once exchange, no typed errors, no per-identity limit.
 * Env: BENCH_DB, WECHAT_API_BASE, BENCH_SYNCHRONOUS (FULL, the default: as durable as jit
 * serve; NORMAL: better-sqlite3's default with WAL, durable against a crash of the process
 * only). Prints "ready <url>".
 */
import Fastify from "fastify";
import { MiniApp } from "node-easywechat";
import { BENCH_APP, BENCH_LOGIN_TYPE, MASTER_KEY } from "./loginHarness.ts";
import { openHandLogin, type HandSynchronous, type WeChatAnswer } from "./handLogin.ts";

const synchronous = (process.env.BENCH_SYNCHRONOUS ?? "FULL") as HandSynchronous;
if (synchronous !== "FULL" && synchronous !== "NORMAL") throw new Error(`BENCH_SYNCHRONOUS: expected FULL or NORMAL, got ${JSON.stringify(synchronous)}`);
const issue = openHandLogin(process.env.BENCH_DB!, Buffer.from(MASTER_KEY, "base64"), BENCH_LOGIN_TYPE, synchronous);
// The SDK's HTTP client takes its base URL from `http`; the fake WeChat server stands in.
const wechat = new MiniApp({ app_id: BENCH_APP.appId, secret: BENCH_APP.appSecret, token: "", aes_key: "", http: { baseURL: `${process.env.WECHAT_API_BASE!}/` } });
const utils = wechat.getUtils();

const server = Fastify({ logger: false });
server.post<{ Body: { code: string } }>("/api/demo/auths/loginTypes/myWeChatMiniLogin/getLoginCode", async (request, reply) => {
  const answer = (await utils.codeToSession(request.body.code)) as unknown as WeChatAnswer;
  const data = issue(BENCH_APP.appId, answer);
  if (!data) return reply.code(404).send({ error: { code: "USER_AUTH_MISS" } });
  return { data };
});
const url = await server.listen({ port: 0, host: "127.0.0.1" });
process.stdout.write(`ready ${url}\n`);
process.on("SIGTERM", () => void server.close().then(() => process.exit(0)));
