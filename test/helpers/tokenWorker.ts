/**
 * A second process needing the WeChat access token, for test/wechat-access-token.test.ts.
 * Usage (store: a SQLite file or a postgres:// URL): node cli/run-ts.js test/helpers/tokenWorker.ts <store> <fakeUrl> <appId> <appSecret> <masterKeyHex> <callers>
 * Opens the store, prints "ready", waits for one line on stdin (so every worker starts at
 * the same moment), has <callers> concurrent callers get the token, prints one JSON line
 * with the SHA-256 of each distinct token it saw (never the token) and exits.
 */
import readline from "node:readline";
import { createHash } from "node:crypto";
import { systemClock } from "../../runtime/clock.ts";
import { openStore } from "../../elements/auths/storage/openStore.ts";
import { createAccessTokens, createWeChatHttp, createWeChatServerApi } from "../../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";
import { createAccessTokenSeal } from "../../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";

const [storeAt, fakeUrl, appId, appSecret, masterKeyHex, callers] = process.argv.slice(2);
if (!storeAt || !fakeUrl || !appId || !appSecret || !masterKeyHex || !callers) throw new Error("usage: tokenWorker.ts <store> <fakeUrl> <appId> <appSecret> <masterKeyHex> <callers>");
const store = await openStore(storeAt);
const api = createWeChatServerApi(createWeChatHttp(fakeUrl, 5000), appId, appSecret);
const tokens = createAccessTokens({ appId, api, store, seal: createAccessTokenSeal(Buffer.from(masterKeyHex, "hex")), clock: systemClock });
process.stdout.write("ready\n");

const lines = readline.createInterface({ input: process.stdin });
await lines[Symbol.asyncIterator]().next();
lines.close();
const got = await Promise.all(Array.from({ length: Number(callers) }, () => tokens.get()));
await store.close();
const hashes = [...new Set(got.map((t) => createHash("sha256").update(t).digest("hex")))];
process.stdout.write(`${JSON.stringify({ pid: process.pid, hashes })}\n`);
