import { ElementError } from "jit-runtime/element";

/** Longest text argument accepted (wx.login codes and our own codes are far shorter). */
const MAX_TEXT = 256;

/** A non-empty string of at most 256 characters, else ARGUMENT_INVALID naming the argument. */
export function requireText(fn: string, argument: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ElementError("ARGUMENT_INVALID", { function: fn, argument, reason: "must be a non-empty string" });
  }
  if (value.length > MAX_TEXT) {
    throw new ElementError("ARGUMENT_INVALID", { function: fn, argument, reason: `must be at most ${MAX_TEXT} characters` });
  }
  return value;
}

/** A non-empty string without the length cap (encrypted payloads), capped at 64 KiB. */
export function requirePayload(fn: string, argument: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0) {
    throw new ElementError("ARGUMENT_INVALID", { function: fn, argument, reason: "must be a non-empty string" });
  }
  if (value.length > 65_536) {
    throw new ElementError("ARGUMENT_INVALID", { function: fn, argument, reason: "must be at most 65536 characters" });
  }
  return value;
}

/** A positive safe integer, else ARGUMENT_INVALID. */
export function requireUserId(fn: string, value: unknown, argument = "userId"): number {
  if (typeof value !== "number" || !Number.isSafeInteger(value) || value <= 0) {
    throw new ElementError("ARGUMENT_INVALID", { function: fn, argument, reason: "must be a positive integer" });
  }
  return value;
}
