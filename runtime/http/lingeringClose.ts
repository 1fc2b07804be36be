import type { Socket } from "node:net";

/**
 * Lingering close, as nginx does it: an answer sent before the request body was read (413
 * BODY_TOO_LARGE, a 429 before the body, SERVER_CLOSING) ends with Node closing the socket
 * while the client is still sending. Unread bytes on a closed socket make the kernel answer
 * with a reset, and a client that is still writing (Node's fetch, a mini program's
 * wx.request) then reports EPIPE or a network failure instead of the answer it was sent.
 *
 * Instead, once the answer is written we close only our side (FIN) and keep reading and
 * discarding what the client sends, until it closes too or a bound is reached: then the
 * socket is destroyed. The bounds keep a client from holding the connection open by
 * streaming forever.
 */

export interface LingerBounds {
  /** Longest time the socket lingers after the answer. */
  maxMs: number;
  /** Longest silence from the client while lingering. */
  idleMs: number;
  /** Most bytes read and discarded while lingering. */
  maxBytes: number;
}

export const DEFAULT_LINGER: LingerBounds = { maxMs: 5_000, idleMs: 1_000, maxBytes: 32 * 1024 * 1024 };

/** While the server closes, lingering sockets get at most this much longer. */
const CLOSING_GRACE_MS = 500;

export interface Linger {
  /** Arrange for `socket` to linger instead of closing at once when Node ends the answer. */
  arm(socket: Socket): void;
  /** The server is closing: cut every lingering socket after a short grace. */
  closing(): void;
}

export function createLinger(bounds: LingerBounds = DEFAULT_LINGER): Linger {
  const lingering = new Set<() => void>();
  let shuttingDown = false;

  function linger(socket: Socket): void {
    if (socket.destroyed) return;
    let read = 0;
    const cut = () => {
      clearTimeout(total);
      socket.destroy();
    };
    const total = setTimeout(cut, shuttingDown ? CLOSING_GRACE_MS : bounds.maxMs);
    total.unref();
    socket.setTimeout(bounds.idleMs, cut);
    socket.on("data", (chunk: Buffer) => {
      read += chunk.length;
      if (read > bounds.maxBytes) cut();
    });
    socket.once("end", cut);
    socket.once("close", () => {
      clearTimeout(total);
      lingering.delete(shorten);
    });
    const shorten = () => {
      clearTimeout(total);
      setTimeout(cut, CLOSING_GRACE_MS).unref();
    };
    lingering.add(shorten);
    socket.end();
    socket.resume();
  }

  return {
    arm(socket) {
      // Node ends an answer marked `Connection: close` with socket.destroySoon() (its
      // resOnFinish), the one point where the close can be replaced by a linger.
      const armed = socket as Socket & { destroySoon?: () => void; jitLingerArmed?: boolean };
      if (armed.jitLingerArmed) return;
      armed.jitLingerArmed = true;
      armed.destroySoon = () => linger(socket);
    },
    closing() {
      shuttingDown = true;
      for (const shorten of lingering) shorten();
    },
  };
}
