import { randomUUID } from "node:crypto";
import type { IncomingMessage } from "node:http";
import { BlockList, isIP } from "node:net";
import { ConfigError } from "../errors/index.ts";

/**
 * Which peers are trusted proxies (JIT_TRUST_PROXY), as one function used both by Fastify
 * (whose X-Forwarded-For names the client) and by the request id (whose X-Request-Id is taken
 * as is). One function, so the two can never disagree about who is a proxy.
 */
export type TrustProxy = (address: string, hop: number) => boolean;

// The names proxy-addr (Fastify's default) understands, so a value that worked keeps working.
const NAMED: Record<string, string[]> = {
  loopback: ["127.0.0.1/8", "::1/128"],
  linklocal: ["169.254.0.0/16", "fe80::/10"],
  uniquelocal: ["10.0.0.0/8", "172.16.0.0/12", "192.168.0.0/16", "fc00::/7"],
};

const never: TrustProxy = () => false;
const always: TrustProxy = () => true;

/** `false` → nobody; `true` → every peer; a list of addresses, CIDRs or the names above → those. */
export function compileTrustProxy(value: boolean | readonly string[], source = "JIT_TRUST_PROXY"): TrustProxy {
  if (value === false) return never;
  if (value === true) return always;
  const list = new BlockList();
  for (const entry of value.flatMap((e) => NAMED[e] ?? [e])) {
    const [address = "", prefix] = entry.split("/");
    const family = isIP(address);
    const bits = prefix === undefined ? (family === 4 ? 32 : 128) : Number(prefix);
    if (family === 0 || (prefix !== undefined && !/^\d{1,3}$/.test(prefix)) || !Number.isInteger(bits) || bits < 0 || bits > (family === 4 ? 32 : 128)) {
      throw new ConfigError("CONFIG_INVALID", { source, reason: `"${entry.slice(0, 60)}" is not an IP address, a CIDR (10.0.0.0/8) or one of loopback, linklocal, uniquelocal` });
    }
    list.addSubnet(address, bits, family === 4 ? "ipv4" : "ipv6");
  }
  return (address) => {
    const family = isIP(address);
    // IPv4-mapped IPv6 peers (::ffff:127.0.0.1) are checked against IPv4 entries too (BlockList does).
    return family !== 0 && list.check(address, family === 4 ? "ipv4" : "ipv6");
  };
}

/** Plain and short: an id a proxy made, safe to put in headers and log lines as is. */
const PLAIN_REQUEST_ID = /^[A-Za-z0-9._-]{1,64}$/;

/**
 * Fastify's genReqId: the incoming X-Request-Id when the peer is a trusted proxy and the id is
 * plain and short (so ids follow a request across the proxy), else a new UUID. Without a
 * trusted proxy the client's own id is never used: it would let a client choose the id under
 * which its requests are logged.
 */
export function requestIdGenerator(trust: TrustProxy): (req: IncomingMessage) => string {
  if (trust === never) return () => randomUUID();
  return (req) => {
    const incoming = req.headers["x-request-id"];
    if (typeof incoming !== "string" || !PLAIN_REQUEST_ID.test(incoming)) return randomUUID();
    const peer = req.socket?.remoteAddress;
    return peer !== undefined && trust(peer, 0) ? incoming : randomUUID();
  };
}
