import net from "node:net";

/** The answer to a raw request, or "dropped" when the connection closed without one. */
export type RawAnswer = { status: number; body: string } | "dropped";

export interface RawRequest {
  /** The server has accepted the connection (and read what was written so far, if `written` resolves). */
  connected: Promise<void>;
  /** Sends the rest of the body (when it was held back). */
  finish(): void;
  answer: Promise<RawAnswer>;
}

/**
 * A POST over a socket of its own, with `Connection: close`; `holdBack` bytes of the body
 * are kept until finish(), so the request is in flight (headers read, body not) for as long
 * as the test wants; with `lateHeaders` only the request line goes first, the rest at
 * finish() (a request that arrives on an open connection later).
 */
export function rawPost(port: number, path: string, body: string, options: { holdBack?: number; lateHeaders?: boolean; headers?: Record<string, string> } = {}): RawRequest {
  const socket = net.connect(port, "127.0.0.1");
  const bytes = Buffer.from(body, "utf8");
  const hold = options.holdBack ?? 0;
  const extra = Object.entries(options.headers ?? {}).map(([k, v]) => `${k}: ${v}\r\n`).join("");
  const head = `POST ${path} HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: ${bytes.length}\r\nConnection: close\r\n${extra}\r\n`;
  let raw = "";
  socket.setEncoding("utf8");
  socket.on("data", (chunk: string) => (raw += chunk));
  const connected = new Promise<void>((resolve, reject) => {
    socket.once("connect", () => {
      if (options.lateHeaders) socket.write(head.slice(0, head.indexOf("\r\n") + 2));
      else socket.write(Buffer.concat([Buffer.from(head), bytes.subarray(0, bytes.length - hold)]));
      resolve();
    });
    socket.once("error", reject);
  });
  connected.catch(() => {});
  const answer = new Promise<RawAnswer>((resolve) => {
    socket.on("error", () => {});
    socket.on("close", () => {
      const match = /^HTTP\/1\.1 (\d{3})/.exec(raw);
      if (!match) return resolve("dropped");
      const split = raw.indexOf("\r\n\r\n");
      resolve({ status: Number(match[1]), body: split >= 0 ? raw.slice(split + 4) : "" });
    });
  });
  return {
    connected,
    finish: () => {
      if (socket.destroyed) return;
      if (options.lateHeaders) socket.write(Buffer.concat([Buffer.from(head.slice(head.indexOf("\r\n") + 2)), bytes]));
      else if (hold > 0) socket.write(bytes.subarray(bytes.length - hold));
    },
    answer,
  };
}

/** Polls `condition` every 5 ms until it holds (or throws after `timeoutMs`). */
export async function until(condition: () => boolean, timeoutMs = 30_000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!condition()) {
    if (Date.now() > deadline) throw new Error("condition not reached in time");
    await new Promise((r) => setTimeout(r, 5));
  }
}
