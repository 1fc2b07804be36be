import net from "node:net";

/**
 * A TCP proxy on 127.0.0.1 between a client and a server, for outage tests on a shared
 * database server that must not be stopped:
 * - `cut()` destroys every open connection and stops listening, so new connections are
 *   refused, as from a stopped server; `restore()` listens again on the same port;
 * - `freeze()` keeps every connection open but carries no more bytes either way (new ones
 *   are accepted and stay silent), as a network that drops packets; `thaw()` resumes.
 */
export interface TcpProxy {
  port: number;
  cut(): Promise<void>;
  restore(): Promise<void>;
  freeze(): void;
  thaw(): void;
  close(): Promise<void>;
}

interface Pair {
  client: net.Socket;
  upstream: net.Socket;
}

export async function startTcpProxy(target: { host: string; port: number }): Promise<TcpProxy> {
  const pairs = new Set<Pair>();
  let frozen = false;
  const link = ({ client, upstream }: Pair) => {
    client.pipe(upstream);
    upstream.pipe(client);
  };
  const unlink = ({ client, upstream }: Pair) => {
    client.unpipe(upstream);
    upstream.unpipe(client);
    client.pause();
    upstream.pause();
  };
  const server = net.createServer((client) => {
    const pair = { client, upstream: net.connect(target.port, target.host) };
    pairs.add(pair);
    for (const s of [pair.client, pair.upstream]) {
      s.on("error", () => undefined);
      s.on("close", () => {
        pair.client.destroy();
        pair.upstream.destroy();
        pairs.delete(pair);
      });
    }
    if (frozen) unlink(pair);
    else link(pair);
  });
  const listen = (port: number) =>
    new Promise<number>((resolve, reject) => {
      server.once("error", reject);
      server.listen(port, "127.0.0.1", () => {
        server.off("error", reject);
        resolve((server.address() as net.AddressInfo).port);
      });
    });
  const shut = async () => {
    const closing = new Promise<void>((resolve) => (server.listening ? server.close(() => resolve()) : resolve()));
    for (const p of pairs) p.client.destroy();
    await closing;
  };
  const port = await listen(0);
  return {
    port,
    cut: shut,
    restore: async () => void (await listen(port)),
    freeze() {
      frozen = true;
      for (const p of pairs) unlink(p);
    },
    thaw() {
      frozen = false;
      for (const p of pairs) link(p);
    },
    close: shut,
  };
}
