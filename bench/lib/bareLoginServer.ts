/**
 * The node:http shell of the login bench's bare comparison servers (loginBaseline.ts,
 * loginHandWork.ts): read the body, make the jscode2session call with undici (the client
 * `jit serve` uses: no retry, a deadline), hand WeChat's answer to `issue`, answer its data (or 404 when it has none).
 * Env: WECHAT_API_BASE. Prints "ready <url>".
 */
import http from "node:http";
import { Agent } from "undici";
import { BENCH_APP } from "./loginHarness.ts";
import type { WeChatAnswer } from "./handLogin.ts";

export function serveBareLogin(issue: (answer: WeChatAnswer) => unknown): void {
  const base = new URL(process.env.WECHAT_API_BASE!);
  const agent = new Agent();
  const server = http.createServer((req, res) => {
    let body = "";
    req.setEncoding("utf8");
    req.on("data", (chunk: string) => (body += chunk));
    req.on("end", async () => {
      try {
        const { code } = JSON.parse(body) as { code: string };
        const query = new URLSearchParams({ appid: BENCH_APP.appId, secret: BENCH_APP.appSecret, js_code: code, grant_type: "authorization_code" });
        const response = await agent.request({ origin: base.origin, path: `/sns/jscode2session?${query}`, method: "GET", signal: AbortSignal.timeout(5000) });
        const answer = (await response.body.json()) as WeChatAnswer;
        const data = issue(answer);
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
}
