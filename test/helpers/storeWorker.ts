/**
 * A second process on the same database file, for test/store-concurrency.test.ts.
 * Usage: node cli/run-ts.js test/helpers/storeWorker.ts <dbFile>
 * Opens the store, prints "ready", then waits for one JSON line on stdin
 * ({ op: "redeem" | "consumeBind" | "consumeLogin", hashes: string[], now: number }) so that
 * every worker starts racing at the same moment; prints one JSON line of statuses and exits.
 */
import readline from "node:readline";
import { openSqliteStore } from "../../elements/auths/storage/sqlite/index.ts";

const file = process.argv[2];
if (!file) throw new Error("usage: storeWorker.ts <dbFile>");
const store = await openSqliteStore({ file, busyTimeoutMs: 20_000 });
process.stdout.write("ready\n");

const lines = readline.createInterface({ input: process.stdin });
const first = await lines[Symbol.asyncIterator]().next();
lines.close();
const job = JSON.parse(String(first.value)) as { op: "redeem" | "consumeBind" | "consumeLogin"; hashes: string[]; now: number };

const statuses: string[] = [];
for (const hash of job.hashes) {
  if (job.op === "redeem") statuses.push((await store.redeemBindCode(hash, job.now, { appId: "wx1", corp: { corpId: "c1", corpName: "One" } })).status);
  else if (job.op === "consumeBind") statuses.push((await store.consumeCode("bind", hash, job.now)).status);
  else statuses.push((await store.consumeCode("login", hash, job.now)).status);
}
await store.close();
process.stdout.write(`${JSON.stringify({ pid: process.pid, statuses })}\n`);
