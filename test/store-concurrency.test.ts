/**
 * Single use under concurrency: a CLI process beside a server on one database
 * file is a real case, so the guarded UPDATE must hold across processes, not just inside
 * one event loop.
 */
import { spawn, type ChildProcessWithoutNullStreams } from "node:child_process";
import path from "node:path";
import readline from "node:readline";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import { afterEach, describe, expect, it } from "vitest";
import { hashToken, newSecretToken } from "../runtime/security/tokens.ts";
import { openSqliteStore } from "../elements/auths/storage/sqlite/index.ts";
import { storeTempDir, tempSqliteStore } from "./helpers/storeTemp.ts";

const ROOT = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "..");
const T0 = Date.UTC(2026, 0, 1);
const EXPIRES = T0 + 5 * 60_000;
const WORKERS = 4;
const CODES = 12;

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  while (cleanups.length) await cleanups.pop()!();
});

interface Worker {
  child: ChildProcessWithoutNullStreams;
  ready: Promise<void>;
  result: Promise<{ pid: number; statuses: string[] }>;
}

function startWorker(file: string): Worker {
  const child = spawn(process.execPath, ["cli/run-ts.js", "test/helpers/storeWorker.ts", file], { cwd: ROOT, stdio: "pipe" });
  cleanups.push(async () => void child.kill());
  let stderr = "";
  child.stderr.on("data", (chunk: Buffer) => (stderr += chunk.toString()));
  const lines = readline.createInterface({ input: child.stdout });
  const iterator = lines[Symbol.asyncIterator]();
  const exited = new Promise<never>((_, reject) => child.on("exit", (code) => reject(new Error(`worker exited ${code}: ${stderr}`))));
  const nextLine = () => Promise.race([iterator.next().then((r) => r.value as string), exited]);
  const ready = nextLine().then((line) => expect(line).toBe("ready"));
  const result = ready.then(nextLine).then((line) => JSON.parse(line));
  result.catch(() => {}); // surfaced by the awaiting test
  return { child, ready: ready.then(() => undefined), result };
}

function shuffled<T>(items: T[]): T[] {
  const out = [...items];
  for (let i = out.length - 1; i > 0; i--) {
    const j = Math.floor(Math.random() * (i + 1));
    [out[i], out[j]] = [out[j]!, out[i]!];
  }
  return out;
}

/** Starts the workers, waits until all have opened the file, then lets them race. */
async function race(file: string, op: string, hashes: string[]): Promise<Map<string, string[]>> {
  const workers = Array.from({ length: WORKERS }, () => startWorker(file));
  await Promise.all(workers.map((w) => w.ready));
  const orders = workers.map(() => shuffled(hashes));
  workers.forEach((w, i) => w.child.stdin.end(`${JSON.stringify({ op, hashes: orders[i], now: T0 })}\n`));
  const results = await Promise.all(workers.map((w) => w.result));
  const byHash = new Map<string, string[]>(hashes.map((h) => [h, []]));
  results.forEach((r, i) => r.statuses.forEach((status, k) => byHash.get(orders[i]![k]!)!.push(status)));
  return byHash;
}

describe("single use across processes", () => {
  it(`${WORKERS} processes redeeming the same bind codes: one winner per code, one user per code`, async () => {
    const tmp = await storeTempDir();
    cleanups.push(tmp.remove);
    const file = path.join(tmp.dir, "shared.sqlite");
    const store = await openSqliteStore({ file });
    const hashes = Array.from({ length: CODES }, () => hashToken(newSecretToken()));
    for (const [i, h] of hashes.entries()) {
      await store.saveBindCode(h, { appId: "wx1", openId: `o${i}`, unionId: null, expiresAt: EXPIRES }, T0);
    }
    await store.close();

    const byHash = await race(file, "redeem", hashes);
    for (const statuses of byHash.values()) {
      expect(statuses.filter((s) => s === "ok")).toHaveLength(1);
      expect(statuses.filter((s) => s === "invalid")).toHaveLength(WORKERS - 1);
    }
    const raw = new Database(file, { readonly: true });
    const count = (sql: string) => (raw.prepare(sql).get() as { n: number }).n;
    expect(count("SELECT count(*) AS n FROM users")).toBe(CODES);
    expect(count("SELECT count(*) AS n FROM identities")).toBe(CODES);
    expect(count("SELECT count(*) AS n FROM corp_members")).toBe(CODES);
    expect(count("SELECT count(*) AS n FROM bind_codes WHERE used_at IS NULL")).toBe(0);
    raw.close();
  });

  it(`${WORKERS} processes consuming the same login codes: exactly one ok per code`, async () => {
    const { store, file, cleanup } = await tempSqliteStore();
    cleanups.push(cleanup);
    const user = await store.createUser({}, T0);
    const hashes = Array.from({ length: CODES }, () => hashToken(newSecretToken()));
    for (const h of hashes) await store.saveLoginCode(h, { appId: "wx1", userId: user.userId, expiresAt: EXPIRES }, T0);
    // This process keeps its connection open and races too, like a server beside a CLI.
    const byHash = await race(file, "consumeLogin", hashes);
    for (const h of hashes) expect(await store.consumeCode("login", h, T0)).toEqual({ status: "invalid" });
    for (const statuses of byHash.values()) expect(statuses.filter((s) => s === "ok")).toHaveLength(1);
  });
});

describe("single use inside one process", () => {
  it("50 concurrent consumeCode calls with one code: exactly one ok", async () => {
    const { store, file, cleanup } = await tempSqliteStore();
    cleanups.push(cleanup);
    const second = await openSqliteStore({ file }); // a second connection on the same file
    cleanups.push(() => second.close());
    const h = hashToken(newSecretToken());
    await store.saveBindCode(h, { appId: "wx1", openId: "o", unionId: null, expiresAt: EXPIRES }, T0);
    const calls = Array.from({ length: 50 }, (_, i) => (i % 2 ? store : second).consumeCode("bind", h, T0));
    const results = await Promise.all(calls);
    expect(results.filter((r) => r.status === "ok")).toHaveLength(1);
    expect(results.filter((r) => r.status === "invalid")).toHaveLength(49);
  });
});
