/**
 * The login bench's baseline, in its own process: a bare node:http handler doing only what
 * getLoginCode must do at minimum: the same upstream jscode2session call with got (no retry,
 * a timeout) and the same indexed SQLite lookup of the binding by (app_id, open_id).
 * Env: BENCH_DB (database file), WECHAT_API_BASE. Prints "ready <url>".
 */
import http from "node:http";
import Database from "better-sqlite3";
import got from "got";
import { BENCH_APP } from "./loginHarness.ts";

const db = new Database(process.env.BENCH_DB!, { readonly: true });
const findBinding = db.prepare("SELECT user_id FROM wechat_mini_bindings WHERE app_id = ? AND open_id = ?");
const base = process.env.WECHAT_API_BASE!;

const server = http.createServer((req, res) => {
  let body = "";
  req.setEncoding("utf8");
  req.on("data", (chunk: string) => (body += chunk));
  req.on("end", async () => {
    try {
      const { code } = JSON.parse(body) as { code: string };
      const text = await got(`${base}/sns/jscode2session`, {
        searchParams: { appid: BENCH_APP.appId, secret: BENCH_APP.appSecret, js_code: code, grant_type: "authorization_code" },
        retry: { limit: 0 },
        timeout: { request: 5000 },
      }).text();
      const answer = JSON.parse(text) as { openid?: string };
      const row = findBinding.get(BENCH_APP.appId, answer.openid) as { user_id: number } | undefined;
      res.writeHead(200, { "content-type": "application/json" });
      res.end(JSON.stringify({ data: { userId: row?.user_id ?? null } }));
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
