/**
 * Child process for the login benches: the fake WeChat server on 127.0.0.1 (its own event
 * loop, as WeChat would be), knowing the demo mini program, with codes valid for an hour.
 * Mints the benches' codes up front (BENCH_MINT = JSON [{ count, users, prefix }]) into
 * BENCH_CODES_FILE (one JSON array per segment), then prints "ready <url>".
 */
import { writeFileSync } from "node:fs";
import { startFakeWeChatServer } from "jit-runtime/testing";
import { BENCH_APP } from "./loginHarness.ts";

const fake = await startFakeWeChatServer({ apps: [BENCH_APP], port: 0, codeTtlMs: 3_600_000 });
const spec = JSON.parse(process.env.BENCH_MINT ?? "[]") as Array<{ count: number; users: number; prefix: string }>;
const segments = spec.map(({ count, users, prefix }) =>
  Array.from({ length: count }, () => fake.mintCode({ appId: BENCH_APP.appId, openId: `${prefix}${Math.floor(Math.random() * users)}` })),
);
if (process.env.BENCH_CODES_FILE) writeFileSync(process.env.BENCH_CODES_FILE, JSON.stringify(segments));
process.stdout.write(`ready ${fake.url}\n`);
process.on("SIGTERM", () => void fake.close().then(() => process.exit(0)));
