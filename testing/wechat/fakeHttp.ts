import { randomBytes } from "node:crypto";
import type { IncomingMessage, ServerResponse } from "node:http";

/** Small HTTP helpers of the fake WeChat server. */

/** The errmsg texts WeChat uses; the fake answers with them. */
export const ERRMSG: Readonly<Record<number, string>> = {
  [-1]: "system error",
  40013: "invalid appid",
  40125: "invalid appsecret",
  40029: "invalid code",
  40163: "code been used",
  40226: "high risk user",
  41002: "appid missing",
  41004: "appsecret missing",
  41008: "missing code",
  45011: "api minute-quota reach limit  mustslower  retry next minute",
  40001: "invalid credential, access_token is invalid or not latest",
  87009: "invalid signature",
  40014: "invalid access_token",
  42001: "access_token expired",
};

export type FakeHandler = (req: IncomingMessage, res: ServerResponse, query: URLSearchParams, body: string) => Promise<void> | void;

export type WxErrorBody = { errcode: number | string; errmsg: string };

/** A trace id shaped like WeChat's ("rid: 65f1a2b3-1c2d3e4f-5a6b7c8d"). */
export function fakeRid(): string {
  const hex = randomBytes(12).toString("hex");
  return `${hex.slice(0, 8)}-${hex.slice(8, 16)}-${hex.slice(16, 24)}`;
}

/** WeChat's error body: errcode plus errmsg carrying the rid. */
export function wxError(errcode: number | string, errmsg?: string): WxErrorBody {
  return { errcode, errmsg: `${errmsg ?? ERRMSG[Number(errcode)] ?? "error"}, rid: ${fakeRid()}` };
}

export function sendJson(res: ServerResponse, status: number, body: unknown, contentType = "application/json; charset=utf-8"): void {
  if (res.destroyed || res.writableEnded) return;
  res.writeHead(status, { "content-type": contentType });
  res.end(JSON.stringify(body));
}

export function readBody(req: IncomingMessage, limit = 64 * 1024): Promise<string> {
  return new Promise((resolve, reject) => {
    let size = 0;
    const chunks: Buffer[] = [];
    req.on("data", (chunk: Buffer) => {
      size += chunk.length;
      if (size > limit) {
        reject(new Error("body too large"));
        req.destroy();
      } else chunks.push(chunk);
    });
    req.on("end", () => resolve(Buffer.concat(chunks).toString("utf8")));
    req.on("error", reject);
  });
}
