/**
 * A stand-in for WeChat's jscode2session for bench/wechatCall.ts: every request gets the same
 * session answer (as text/plain, as WeChat has served it), from a process of its own.
 * Prints "ready <url>".
 */
import http from "node:http";

const answer = JSON.stringify({ openid: "oBenchOpenId0000000000000000", session_key: "c2Vzc2lvbi1rZXktYmVuY2gtMDA=", unionid: "oBenchUnionId000000000000000" });
const server = http.createServer((_request, response) => {
  response.writeHead(200, { "content-type": "text/plain" });
  response.end(answer);
});
server.keepAliveTimeout = 60_000;
server.listen(0, "127.0.0.1", () => {
  const address = server.address();
  process.stdout.write(`ready http://127.0.0.1:${typeof address === "object" && address ? address.port : 0}\n`);
});
process.on("SIGTERM", () => server.close(() => process.exit(0)));
