import net from "node:net";
import path from "node:path";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { LOGIN, TEST_MASTER_KEY, makeTempRoot, removeDir } from "./helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";
import { DEFAULT_LINGER } from "../runtime/http/lingeringClose.ts";

// An answer sent before the body was read (413 BODY_TOO_LARGE) must reach a client that is
// still sending. Node's fetch (undici) writes the whole body before it reads the answer; when
// the server closed at once, the kernel reset the connection and fetch saw EPIPE instead of
// the 413. The server now lingers (runtime/http/lingeringClose.ts), within bounds.
describe("an over-limit body, sent with Node's fetch to a real jit serve", () => {
  let root: string;
  let child: Child;
  let base: string;
  const url = () => `${base}${LOGIN}/getLoginCode`;
  const FIVE_MIB = 5 * 1024 * 1024;

  beforeAll(async () => {
    root = await makeTempRoot();
    child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--host", "127.0.0.1", "--db", path.join(root, "data", "limit.sqlite")], {
      JIT_DB: undefined,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_LOG_LEVEL: "warn",
    });
    base = (await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/, 60_000))[1]!;
  }, 90_000);
  afterAll(async () => {
    child?.kill("SIGTERM");
    await child?.exited;
    if (root) await removeDir(root);
  });

  async function send(body: BodyInit, init: RequestInit = {}) {
    const res = await fetch(url(), { method: "POST", headers: { "content-type": "application/json" }, body, signal: AbortSignal.timeout(20_000), ...init });
    return { status: res.status, json: (await res.json()) as { error: { code: string; message: string } } };
  }

  const bodies: Array<[string, () => { body: BodyInit; init?: RequestInit }]> = [
    ["a string (Content-Length known)", () => ({ body: JSON.stringify({ code: "x".repeat(FIVE_MIB) }) })],
    ["bytes (Content-Length known)", () => ({ body: new Uint8Array(FIVE_MIB).fill(0x78) })],
    [
      "a stream (chunked, no Content-Length)",
      () => {
        const chunk = new Uint8Array(64 * 1024).fill(0x78);
        let sent = 0;
        const stream = new ReadableStream<Uint8Array>({
          pull(controller) {
            controller.enqueue(chunk);
            sent += chunk.length;
            if (sent >= FIVE_MIB) controller.close();
          },
        });
        return { body: stream, init: { duplex: "half" } as RequestInit };
      },
    ],
  ];

  for (const [what, make] of bodies) {
    it(`5 MiB as ${what}: 413 BODY_TOO_LARGE every time, never EPIPE`, async () => {
      for (let round = 0; round < 5; round++) {
        const { body, init } = make();
        const reply = await send(body, init);
        expect(reply.status).toBe(413);
        expect(reply.json.error.code).toBe("BODY_TOO_LARGE");
        expect(reply.json.error.message).toContain("16384");
      }
    }, 60_000);
  }

  it("the server still answers normally afterwards", async () => {
    const reply = await send(JSON.stringify({}));
    expect(reply.status).toBe(400);
    expect(reply.json.error.code).toBe("API_PARAMS_ERROR");
  });

  it("a client that keeps sending after the 413 is cut off within the linger bounds", async () => {
    const { port } = new URL(base);
    const socket = net.connect({ port: Number(port), host: "127.0.0.1", allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    let answer = "";
    socket.on("data", (c: Buffer) => (answer += c.toString("latin1")));
    socket.on("error", () => {});
    const closed = new Promise<number>((resolve) => socket.once("close", () => resolve(Date.now())));
    socket.write(`POST ${LOGIN}/getLoginCode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n`);
    const started = Date.now();
    const chunk = Buffer.alloc(64 * 1024, 0x78);
    // An endless body, paced so the idle bound never fires: only the total time or the byte bound can end it.
    const pump = setInterval(() => {
      if (!socket.destroyed) socket.write(chunk);
    }, 20);
    try {
      const end = await closed;
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      expect(answer).toContain("BODY_TOO_LARGE");
      expect(end - started).toBeLessThan(DEFAULT_LINGER.maxMs + 3_000);
    } finally {
      clearInterval(pump);
      socket.destroy();
    }
  }, 30_000);

  it("a client that goes silent after the 413 is cut off by the idle bound", async () => {
    const { port } = new URL(base);
    const socket = net.connect({ port: Number(port), host: "127.0.0.1", allowHalfOpen: true });
    await new Promise<void>((resolve, reject) => socket.once("connect", resolve).once("error", reject));
    let answer = "";
    socket.on("data", (c: Buffer) => (answer += c.toString("latin1")));
    let failure: string | undefined;
    socket.on("error", (err: NodeJS.ErrnoException) => (failure = err.code));
    const ended = new Promise<void>((resolve) => socket.once("end", resolve));
    const closed = new Promise<void>((resolve) => socket.once("close", () => resolve()));
    socket.write(`POST ${LOGIN}/getLoginCode HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 1000000000\r\n\r\n`);
    try {
      await ended; // the answer, then the server's half-close
      expect(answer).toMatch(/^HTTP\/1\.1 413 /);
      // Silent past the idle bound: the server has closed its socket, so the next bytes are
      // refused (reset) instead of read.
      await new Promise((resolve) => setTimeout(resolve, DEFAULT_LINGER.idleMs + 1_500));
      socket.write("x");
      setTimeout(() => socket.writable && socket.write("x"), 200);
      await closed;
      expect(failure).toMatch(/^(ECONNRESET|EPIPE)$/);
    } finally {
      socket.destroy();
    }
  }, 30_000);
});
