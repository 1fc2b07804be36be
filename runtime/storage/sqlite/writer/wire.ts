import { ConfigError, DeclarationError, ElementError, HttpError, JitError, StoreError, CliError, type ErrorParams, type Problem } from "../../../errors/index.ts";
import type { ErrorCode, ErrorFamily } from "../../../errors/codes.ts";
import type { WriteOp } from "../writes.ts";
import { LoginError } from "../../../../elements/auths/loginTypes/Meta/errors.ts";
import { VaultError } from "../../../../elements/auths/loginTypes/WeChatMiniType/vault/errors.ts";

/** What crosses between a store and its writer thread (structured clone: plain data only). */

export interface WriteRequest {
  id: number;
  op: WriteOp;
  args: unknown[];
}

export type WriteReply = { id: number; ok: true; value: unknown } | { id: number; ok: false; error: WireError };

export type ToWriter = { type: "batch"; requests: WriteRequest[] } | { type: "close" };

export type FromWriter =
  | { type: "ready" }
  | { type: "open-failed"; error: WireError }
  | { type: "replies"; replies: WriteReply[] }
  | { type: "closed" };

/**
 * An error as data. Typed errors keep their class, code and params, so a caller sees the same
 * LoginError("ALREADY_BOUND") whichever thread ran the unit; anything else keeps its name,
 * message and string code (e.g. SqliteError's SQLITE_BUSY). Stacks stay behind: they
 * describe the writer thread, not the caller.
 */
export type WireError =
  | { kind: "jit"; family: ErrorFamily; code: ErrorCode; params: ErrorParams; problems: Problem[]; message: string }
  | { kind: "other"; name: string; message: string; code?: string };

const FAMILIES: Partial<Record<ErrorFamily, new (code: never, params?: ErrorParams, options?: { problems?: Problem[]; message?: string }) => JitError>> = {
  declaration: DeclarationError,
  element: ElementError,
  login: LoginError,
  vault: VaultError,
  store: StoreError,
  http: HttpError,
  cli: CliError,
  config: ConfigError,
};

export function toWire(err: unknown): WireError {
  if (err instanceof JitError && FAMILIES[err.family]) {
    return { kind: "jit", family: err.family, code: err.code, params: err.params, problems: [...err.problems], message: err.message };
  }
  if (err instanceof Error) {
    const code = (err as { code?: unknown }).code;
    return { kind: "other", name: err.name, message: err.message, ...(typeof code === "string" ? { code } : {}) };
  }
  return { kind: "other", name: "Error", message: String(err) };
}

export function fromWire(wire: WireError): Error {
  if (wire.kind === "jit") {
    const Family = FAMILIES[wire.family]!;
    return new Family(wire.code as never, wire.params, { problems: wire.problems, message: wire.message });
  }
  const err = new Error(wire.message);
  err.name = wire.name;
  if (wire.code !== undefined) (err as Error & { code: string }).code = wire.code;
  return err;
}
