import { ConfigError, DeclarationError, ElementError, HttpError, JitError, StoreError, CliError, type ErrorParams, type Problem } from "../../../errors/index.ts";
import type { ErrorCode, ErrorFamily } from "../../../errors/codes.ts";

/** What crosses between a store and its writer thread (structured clone: plain data only). */

/** `module` "" with op "ping" or "load" is the thread's own; any other names a loaded write-unit module. */
export interface WriteRequest {
  id: number;
  module: string;
  op: string;
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
 * family's error (e.g. the login family's ALREADY_BOUND) whichever thread ran the unit, once
 * its class is registered (registerWireErrors); anything else keeps its name,
 * message and string code (e.g. SqliteError's SQLITE_BUSY). Stacks stay behind: they
 * describe the writer thread, not the caller.
 */
export type WireError =
  | { kind: "jit"; family: ErrorFamily; code: ErrorCode; params: ErrorParams; problems: Problem[]; message: string }
  | { kind: "other"; name: string; message: string; code?: string };

/** An error class of one family, as a write-unit module names it (WriteUnitModule.errorFamilies). */
export type WireErrorClass = new (code: never, params?: ErrorParams, options?: { problems?: Problem[]; message?: string }) => JitError;

/** The runtime's own error classes, then those the loaded write-unit modules register. */
const FAMILIES = new Map<string, WireErrorClass>([
  ["declaration", DeclarationError],
  ["element", ElementError],
  ["store", StoreError],
  ["http", HttpError],
  ["cli", CliError],
  ["config", ConfigError],
] as [string, WireErrorClass][]);

/** The error classes a family's units throw, by family, so they cross the thread with their class. */
export function registerWireErrors(families: Readonly<Record<string, WireErrorClass>> | undefined): void {
  for (const [family, cls] of Object.entries(families ?? {})) FAMILIES.set(family, cls);
}

export function toWire(err: unknown): WireError {
  if (err instanceof JitError && FAMILIES.has(err.family)) {
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
    const Family = FAMILIES.get(wire.family)!;
    return new Family(wire.code as never, wire.params, { problems: wire.problems, message: wire.message });
  }
  const err = new Error(wire.message);
  err.name = wire.name;
  if (wire.code !== undefined) (err as Error & { code: string }).code = wire.code;
  return err;
}
