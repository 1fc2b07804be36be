/**
 * The login bench's fair baseline, in its own process: a bare node:http handler doing by hand
 * the work getLoginCode does (handLogin.ts) after the same upstream jscode2session call with
 * got (no retry, a timeout). Env: BENCH_DB, WECHAT_API_BASE. Prints "ready <url>".
 */
import http from "node:http";
import got from "got";
import { BENCH_APP, BENCH_LOGIN_TYPE, MASTER_KEY } from "./loginHarness.ts";
import { openHandLogin, type WeChatAnswer } from "./handLogin.ts";

const issue = openHandLogin(process.env.BENCH_DB!, Buffer.from(MASTER_KEY, "base64"), BENCH_LOGIN_TYPE);
const base = process.env.WECHAT_API_BASE!;

const server = http.createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (body += chunk));
  req.on("end", async () => {
    try {
      const { code } = JSON.parse(body) as { code: string };
      const answer = (await got(`${base}/sns/jscode2session`, {
        searchParams: { appid: BENCH_APP.appId, secret: BENCH_APP.appSecret, js_code: code, grant_type: "authorization_code" },
        retry: { limit: 0 },
        timeout: { request: 5000 },
      }).json()) as WeChatAnswer;
      const data = issue(BENCH_APP.appId, answer);
      res.writeHead(data ? 200 : 404, { "content-type": "application/json" });
      res.end(JSON.stringify(data ? { data } : { error: { code: "USER_AUTH_MISS" } }));
    } catch {
      res.writeHead(500).end();
    }
  });
});
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`ready http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
