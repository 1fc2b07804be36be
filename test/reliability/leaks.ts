import { platformErrorTable } from "../helpers/errorTable.ts";

const ERROR_CODES = Object.fromEntries(await platformErrorTable());

/** A stack frame ("at fn (file:1:2)") or a file path of this machine in a response body. */
const INTERNALS = [/\bat [^\n]*:\d+:\d+/, /(?:\/(?:work|home|root|tmp|usr|var|opt)\/[\w.-]+)/, /node_modules/, /\bfile:\/\//, /\.(?:ts|js|mjs):\d+/];

/** The first internal detail found in `body` that the request itself did not carry, else null. */
export function internalDetail(body: string, sent: string): string | null {
  for (const pattern of INTERNALS) {
    const match = pattern.exec(body);
    if (match && !sent.includes(match[0])) return match[0];
  }
  return null;
}

export function isRegisteredCode(code: unknown): boolean {
  return typeof code === "string" && Object.hasOwn(ERROR_CODES, code);
}
