/**
 * One process opening a SQLite database at a given instant, for test/store-open.test.ts.
 * Usage: node cli/run-ts.js test/helpers/storeOpener.ts <dbFile> <epoch ms to open at>
 * Prints "ok" or "FAIL <code> <message>".
 */
import { openSqliteStore } from "../../elements/auths/storage/sqlite/index.ts";
import { isJitError } from "../../runtime/errors/index.ts";

const [file, at] = [process.argv[2]!, Number(process.argv[3])];
// Spin, not sleep: the processes must reach the open within a millisecond of each other.
while (Date.now() < at);
try {
  const store = await openSqliteStore({ file, writer: "worker" });
  await store.close();
  process.stdout.write("ok\n");
} catch (err) {
  process.stdout.write(`FAIL ${isJitError(err) ? err.code : "?"} ${(err as Error).message}\n`);
}
