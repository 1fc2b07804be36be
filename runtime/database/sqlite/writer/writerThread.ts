import { parentPort, workerData } from "node:worker_threads";
import Database from "better-sqlite3";
import { InlineWrites } from "../writeChannel.ts";
import { toWire, type FromWriter, type ToWriter, type WriteReply, type WriteRequest } from "./wire.ts";

/**
 * The writer thread of a SQLite handle (see WorkerWrites.ts): its own connection to the
 * database, running the write units of the modules families loaded (imported here by URL:
 * a function cannot be sent to a thread) through the same group commit as the inline
 * channel. SQLite's automatic checkpoints happen on this connection's commits, so they run
 * here too.
 *
 * One "batch" message holds the units its sender queued in one event-loop turn. They are all
 * queued here in one turn as well, so they share one transaction and one fsync; the replies
 * go back as one message once that commit is durable (see reply() for the exceptions).
 */
export interface WriterData {
  file: string;
  busyTimeoutMs: number;
  /** Write-unit modules to load before the thread answers "ready" (a replacement thread loads what its predecessor had). */
  modules: string[];
}

const port = parentPort!;
const { file, busyTimeoutMs, modules } = workerData as WriterData;
const post = (message: FromWriter) => port.postMessage(message);

let channel: InlineWrites;
let db: Database.Database | undefined;
try {
  db = new Database(file, { timeout: busyTimeoutMs });
  db.pragma("foreign_keys = ON");
  db.pragma("synchronous = NORMAL"); // the WAL fsync is the group commit's (groupCommit.ts)
  channel = new InlineWrites(db, `${file}-wal`);
  for (const module of modules) await channel.load(module);
  post({ type: "ready" });
} catch (err) {
  db?.close();
  post({ type: "open-failed", error: toWire(err) });
  port.close();
}

function runBatch(requests: WriteRequest[]): void {
  for (const { id, module, op, args } of requests) {
    // A health probe reads outside the group commit: no write lock. A load imports a module.
    const answer = module === "" ? (op === "ping" ? channel.ping() : channel.load(String(args[0]))) : channel.run(module, op, args);
    answer.then(
      (value) => reply({ id, ok: true, value }),
      (error: unknown) => reply({ id, ok: false, error: toWire(error) }),
    );
  }
  // The message is already one turn's batch: commit it now rather than a turn later.
  channel.flush();
}

/**
 * Replies go back in one message per turn: a batch's units settle together once its sync
 * ends, except those acknowledged at commit (ackOnCommit), which go back at once.
 */
let outgoing: WriteReply[] = [];
function reply(answer: WriteReply): void {
  if (outgoing.length === 0) {
    setImmediate(() => {
      const replies = outgoing;
      outgoing = [];
      post({ type: "replies", replies });
    });
  }
  outgoing.push(answer);
}

// A message that cannot be read names no write to fail: exit, so the main thread fails the
// writes it had sent (as for a crash) and starts a new thread for the next ones.
port.on("messageerror", () => process.exit(1));

port.on("message", (message: ToWriter) => {
  if (message.type === "batch") {
    runBatch(message.requests);
    return;
  }
  // close: the sender has no write in flight any more; commit anything left and let go.
  void channel.close().finally(() => {
    if (db?.open) db.close();
    post({ type: "closed" });
    port.close();
  });
});
