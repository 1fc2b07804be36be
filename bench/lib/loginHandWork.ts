/**
 * The login bench's fair baseline, in its own process: a bare node:http handler doing by hand
 * the work getLoginCode does (handLogin.ts) after the same jscode2session call with undici.
 * Env: BENCH_DB, WECHAT_API_BASE. Prints "ready <url>".
 */
import { BENCH_APP, BENCH_LOGIN_TYPE, MASTER_KEY } from "./loginHarness.ts";
import { openHandLogin } from "./handLogin.ts";
import { serveBareLogin } from "./bareLoginServer.ts";

const issue = openHandLogin(process.env.BENCH_DB!, Buffer.from(MASTER_KEY, "base64"), BENCH_LOGIN_TYPE);
serveBareLogin((answer) => issue(BENCH_APP.appId, answer));
