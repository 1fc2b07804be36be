/**
 * What the shared access token costs: a cold fetch for 50 concurrent callers (one
 * stable_token call, the lease taken and released in the store), a warm get (memory), and a
 * get that must read and open the stored token (a second manager, as another process).
 * Run: node cli/run-ts.js bench/accessToken.ts
 */
import { randomBytes } from "node:crypto";
import { performance } from "node:perf_hooks";
import os from "node:os";
import path from "node:path";
import fs from "node:fs/promises";
import { systemClock } from "../runtime/clock.ts";
import { openSqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { startFakeWeChatServer } from "../testing/index.ts";
import { createAccessTokens, createWeChatHttp, createWeChatServerApi } from "../elements/auths/loginTypes/WeChatMiniType/wechat/index.ts";
import { createAccessTokenSeal } from "../elements/auths/loginTypes/WeChatMiniType/vault/index.ts";

const appId = "wxbench0000000000";
const appSecret = "bench-secret";
const fake = await startFakeWeChatServer({ apps: [{ appId, appSecret }] });
const dir = await fs.mkdtemp(path.join(os.tmpdir(), "jit-token-bench-"));
const store = await openSqliteStore({ file: path.join(dir, "t.sqlite") });
const api = createWeChatServerApi(createWeChatHttp(fake.url, 5000), appId, appSecret);
const seal = createAccessTokenSeal(randomBytes(32));
const make = () => createAccessTokens({ appId, api, store, seal, clock: systemClock });

const a = make();
let t = performance.now();
await Promise.all(Array.from({ length: 50 }, () => a.get()));
const cold = performance.now() - t;

const N = 100_000;
t = performance.now();
for (let i = 0; i < N; i++) await a.get();
const warm = ((performance.now() - t) / N) * 1000;

const M = 2000;
t = performance.now();
for (let i = 0; i < M; i++) await make().get(); // a fresh manager each time: reads and opens the stored row
const stored = ((performance.now() - t) / M) * 1000;

console.log(JSON.stringify({ node: process.version, cpus: os.cpus().length, coldFiftyCallersMs: +cold.toFixed(1), stableTokenCalls: fake.stats().stable_token, warmGetMicros: +warm.toFixed(2), storedGetMicros: +stored.toFixed(1) }));
await store.close();
await fake.close();
await fs.rm(dir, { recursive: true, force: true });
