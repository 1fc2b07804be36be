import { Worker } from "node:worker_threads";
import { StoreError } from "../../../errors/index.ts";
import type { WriteArgs, WriteChannel, WriteResult } from "../writeChannel.ts";
import type { WriteOp } from "../writes.ts";
import { fromWire, type FromWriter, type ToWriter, type WriteReply, type WriteRequest } from "./wire.ts";
import type { WriterData } from "./writerThread.ts";

interface Pending {
  resolve: (value: unknown) => void;
  reject: (error: unknown) => void;
}

/**
 * Write units run on a writer thread with its own connection (writerThread.ts).
 *
 * Why: better-sqlite3 is synchronous, so on the inline channel every statement, COMMIT and
 * automatic checkpoint (page copies and two fsyncs) runs on the caller's event loop. A server
 * whose event loop is the bottleneck gets that time back; reads stay on the caller's
 * connection, where they cost a few microseconds.
 *
 * How: the units called in one event-loop turn go out as one message (setImmediate, the same
 * rhythm as the group commit), the thread commits them as one batch and answers with one
 * message once the batch is durable. The order of calls is kept (one thread, messages in
 * order), so groupCommit.ts's contract holds as it is. Errors come back typed (wire.ts).
 *
 * The thread does not keep the process alive when idle (a script that forgets close() still
 * exits), only while a write is in flight. If it dies, every write in flight and every later
 * one fails with STORE_WRITER_FAILED; nothing is retried, since a unit may have committed.
 */
export class WorkerWrites implements WriteChannel {
  readonly #worker: Worker;
  readonly #file: string;
  #nextId = 1;
  #outbox: WriteRequest[] = [];
  #timer: NodeJS.Immediate | null = null;
  readonly #pending = new Map<number, Pending>();
  #failure: Error | null = null;
  /** close() waiting for the writes in flight. */
  #idleWaiters: Array<() => void> = [];
  #closing: Promise<void> | null = null;
  readonly #exited: Promise<void>;

  private constructor(worker: Worker, file: string) {
    this.#worker = worker;
    this.#file = file;
    this.#exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("message", (message: FromWriter) => {
      if (message.type === "replies") this.#settle(message.replies);
    });
    worker.on("error", (err) => this.#fail(err.message));
    worker.on("exit", (code) => this.#fail(`it exited (code ${code})`));
    worker.unref();
  }

  /** Starts the thread and waits until its connection is open. */
  static async start(options: WriterData): Promise<WorkerWrites> {
    const worker = new Worker(new URL("./writerThread.mjs", import.meta.url), { workerData: options });
    // Not removeAllListeners(): Worker manages its port through listener events of its own.
    let onMessage!: (m: FromWriter) => void, onError!: (e: Error) => void, onExit!: (code: number) => void;
    const started = await new Promise<FromWriter | Error>((resolve) => {
      onMessage = resolve;
      onError = resolve;
      onExit = (code) => resolve(new Error(`it exited (code ${code}) while starting`));
      worker.once("message", onMessage).once("error", onError).once("exit", onExit);
    });
    worker.off("message", onMessage).off("error", onError).off("exit", onExit);
    if (started instanceof Error || started.type !== "ready") {
      await worker.terminate();
      const reason = started instanceof Error ? started.message : started.type === "open-failed" ? fromWire(started.error).message : started.type;
      throw new StoreError("STORE_WRITER_FAILED", { file: options.file, reason });
    }
    return new WorkerWrites(worker, options.file);
  }

  run<K extends WriteOp>(op: K, ...args: WriteArgs<K>): Promise<WriteResult<K>> {
    if (this.#closing) return Promise.reject(new StoreError("STORE_WRITER_FAILED", { file: this.#file, reason: "the store is closed" }));
    if (this.#failure) return Promise.reject(this.#failure);
    return new Promise<WriteResult<K>>((resolve, reject) => {
      const id = this.#nextId++;
      if (this.#pending.size === 0) this.#worker.ref();
      this.#pending.set(id, { resolve: resolve as (value: unknown) => void, reject });
      this.#outbox.push({ id, op, args });
      this.#timer ??= setImmediate(() => this.flush());
    });
  }

  flush(): void {
    if (this.#timer) {
      clearImmediate(this.#timer);
      this.#timer = null;
    }
    if (this.#outbox.length === 0 || this.#failure) return;
    const requests = this.#outbox;
    this.#outbox = [];
    this.#post({ type: "batch", requests });
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  async #close(): Promise<void> {
    this.flush();
    // Every write already sent settles first (committed and durable, or failed).
    if (this.#pending.size > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    if (!this.#failure) {
      this.#worker.ref();
      this.#post({ type: "close" });
    }
    await this.#exited;
  }

  /**
   * Stops the thread at once, as a crash would: writes in flight fail with
   * STORE_WRITER_FAILED (any of them may have committed). For tests of that path.
   */
  async terminate(): Promise<void> {
    await this.#worker.terminate();
  }

  #post(message: ToWriter): void {
    this.#worker.postMessage(message);
  }

  #settle(replies: WriteReply[]): void {
    for (const reply of replies) {
      const pending = this.#pending.get(reply.id);
      if (!pending) continue;
      this.#pending.delete(reply.id);
      if (reply.ok) pending.resolve(reply.value);
      else pending.reject(fromWire(reply.error));
    }
    if (this.#pending.size === 0) this.#idle();
  }

  #idle(): void {
    this.#worker.unref();
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #fail(reason: string): void {
    if (this.#failure) return;
    // A clean close ends with an exit too: nothing is pending then, and nothing may follow.
    this.#failure = new StoreError("STORE_WRITER_FAILED", { file: this.#file, reason });
    for (const pending of this.#pending.values()) pending.reject(this.#failure);
    this.#pending.clear();
    this.#outbox = [];
    this.#idle();
  }
}
