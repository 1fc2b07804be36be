import { Worker } from "node:worker_threads";
import { StoreError, type JitError } from "../../../errors/index.ts";
import type { WriteChannel } from "../writeChannel.ts";
import { fromWire, registerWireErrors, type WireErrorClass, type FromWriter, type ToWriter, type WriteReply, type WriteRequest } from "./wire.ts";
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
 * exits), only while a write is in flight. If it dies, the writes it had been sent fail with
 * STORE_WRITER_FAILED (any of them may have committed, so none is retried) and the next
 * write starts a new thread; a server keeps serving.
 */
export class WorkerWrites implements WriteChannel {
  readonly #options: WriterData;
  /** The running thread; null after it died, until the next write starts another. */
  #worker: Worker | null = null;
  #exited: Promise<void> = Promise.resolve();
  #starting: Promise<void> | null = null;
  #nextId = 1;
  /** Called, not yet sent to a thread. */
  #outbox: WriteRequest[] = [];
  #timer: NodeJS.Immediate | null = null;
  /** Every write not yet settled: in the outbox or sent. */
  readonly #pending = new Map<number, Pending>();
  /** close() waiting for the writes in flight. */
  #idleWaiters: Array<() => void> = [];
  #closing: Promise<void> | null = null;

  private constructor(options: WriterData) {
    this.#options = options;
  }

  /** Starts the thread and waits until its connection is open. */
  static async start(init: Omit<WriterData, "modules"> & { modules?: string[] }): Promise<WorkerWrites> {
    const options: WriterData = { ...init, modules: [...(init.modules ?? [])] };
    const writes = new WorkerWrites(options);
    writes.#attach(await spawnWriter(options));
    return writes;
  }

  /**
   * Loads a write-unit module on the thread (and on every thread that replaces it): a unit
   * is code, which cannot be sent, so the thread imports the module by its URL.
   */
  async load(module: string): Promise<void> {
    if (this.#options.modules.includes(module)) return;
    // This thread rebuilds the errors the units throw: it learns their classes from the module.
    registerWireErrors(((await import(module)) as { errorFamilies?: Record<string, WireErrorClass> }).errorFamilies);
    this.#options.modules.push(module);
    try {
      await this.run("", "load", [module]);
    } catch (err) {
      this.#options.modules.splice(this.#options.modules.indexOf(module), 1);
      throw err;
    }
  }

  run(module: string, op: string, args: unknown[]): Promise<unknown> {
    if (this.#closing) return Promise.reject(new StoreError("STORE_CLOSED", { file: this.#options.file }));
    return new Promise<unknown>((resolve, reject) => {
      const id = this.#nextId++;
      if (this.#pending.size === 0) this.#worker?.ref();
      this.#pending.set(id, { resolve, reject });
      this.#outbox.push({ id, module, op, args });
      this.#timer ??= setImmediate(() => this.flush());
    });
  }

  flush(): void {
    if (this.#timer) {
      clearImmediate(this.#timer);
      this.#timer = null;
    }
    if (this.#outbox.length === 0) return;
    if (!this.#worker) {
      this.#restart();
      return;
    }
    const requests = this.#outbox;
    this.#outbox = [];
    try {
      this.#worker.postMessage({ type: "batch", requests } satisfies ToWriter);
    } catch {
      // An argument that cannot be cloned (a programming error: request data always can).
      // Sent one by one, in order, so only the writes that cannot be sent fail.
      for (const request of requests) {
        try {
          this.#worker.postMessage({ type: "batch", requests: [request] } satisfies ToWriter);
        } catch {
          // Not the clone error's message: it quotes the argument.
          this.#reject(request.id, this.#error(`write ${request.op} has an argument that cannot be sent to the thread`));
        }
      }
    }
  }

  /** A round trip to the thread, which reads on its connection (writerThread.ts); a dead thread is replaced first. */
  async ping(): Promise<void> {
    await this.run("", "ping", []);
  }

  close(): Promise<void> {
    this.#closing ??= this.#close();
    return this.#closing;
  }

  /**
   * Stops the thread at once, as a crash would: the writes it was sent fail with
   * STORE_WRITER_FAILED (any of them may have committed). For tests of that path.
   */
  async terminate(): Promise<void> {
    await this.#worker?.terminate();
  }

  async #close(): Promise<void> {
    this.flush();
    // Every write already called settles first (committed and durable, or failed).
    if (this.#pending.size > 0) await new Promise<void>((resolve) => this.#idleWaiters.push(resolve));
    const worker = this.#worker;
    if (!worker) return;
    this.#worker = null; // its exit is expected now
    worker.ref();
    worker.postMessage({ type: "close" } satisfies ToWriter);
    await this.#exited;
  }

  #attach(worker: Worker): void {
    this.#worker = worker;
    this.#exited = new Promise((resolve) => worker.once("exit", () => resolve()));
    worker.on("message", (message: FromWriter) => {
      if (message.type === "replies") this.#settle(message.replies);
    });
    worker.on("error", (err) => this.#lost(worker, err.message));
    // A reply that cannot be read would leave its writes waiting for ever: treat it as a crash.
    worker.on("messageerror", (err) => {
      this.#lost(worker, `a reply could not be read: ${err.message}`);
      void worker.terminate();
    });
    worker.on("exit", (code) => this.#lost(worker, `it exited (code ${code})`));
    if (this.#pending.size === 0) worker.unref();
  }

  #restart(): void {
    if (this.#starting) return; // the writes wait in the outbox; flushed once it runs
    this.#starting = spawnWriter(this.#options).then(
      (worker) => {
        this.#starting = null;
        this.#attach(worker);
        this.flush();
      },
      (err: unknown) => {
        this.#starting = null;
        const waiting = this.#outbox;
        this.#outbox = [];
        for (const request of waiting) this.#reject(request.id, err);
      },
    );
  }

  /** The thread died (error or exit): fail what it was sent; keep what it was not. */
  #lost(worker: Worker, reason: string): void {
    if (worker !== this.#worker) return; // closed on purpose, or its second event
    this.#worker = null;
    const failure = this.#error(reason);
    const unsent = new Set(this.#outbox.map((request) => request.id));
    for (const id of [...this.#pending.keys()]) if (!unsent.has(id)) this.#reject(id, failure);
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

  #reject(id: number, error: unknown): void {
    const pending = this.#pending.get(id);
    if (!pending) return;
    this.#pending.delete(id);
    pending.reject(error);
    if (this.#pending.size === 0) this.#idle();
  }

  #idle(): void {
    this.#worker?.unref();
    for (const wake of this.#idleWaiters.splice(0)) wake();
  }

  #error(reason: string): JitError {
    return new StoreError("STORE_WRITER_FAILED", { file: this.#options.file, reason });
  }
}

/**
 * The thread's entry: compiled, the module beside this one; run from TypeScript sources (tests,
 * tsx), a shim that registers tsx first, since a worker does not inherit its parent's loader.
 */
const WRITER_ENTRY = new URL(import.meta.url.endsWith(".ts") ? "./writerThread.mjs" : "./writerThread.js", import.meta.url);

/** Starts a writer thread and waits until its connection is open; STORE_WRITER_FAILED otherwise. */
async function spawnWriter(options: WriterData): Promise<Worker> {
  const worker = new Worker(WRITER_ENTRY, { workerData: options });
  // Not removeAllListeners() afterwards: Worker manages its port through listener events of its own.
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
  return worker;
}
