// Diagnosis only (BENCH_SYNC=normal): preloaded into `jit serve` to turn the store's
// `synchronous = FULL` into NORMAL, to show how much of the login cost is the fsync per commit.
import { createRequire } from "node:module";

const require = createRequire(import.meta.url);
const Database = require("better-sqlite3");
const pragma = Database.prototype.pragma;
Database.prototype.pragma = function (source, options) {
  return pragma.call(this, /^\s*synchronous\s*=\s*full\s*$/i.test(source) ? "synchronous = NORMAL" : source, options);
};
