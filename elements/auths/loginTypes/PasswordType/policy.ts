import { readFileSync } from "node:fs";
import { ElementError } from "jit-runtime/element";
import { LoginError } from "../Meta/errors.ts";

/**
 * What a username and a new password must be (OWASP ASVS 5.0 V6.2): a password of 8 to 128
 * characters, any characters, no composition rules, not one of the common passwords shipped
 * beside this module (commonPasswords.txt, see scripts/common-passwords.mjs), not the
 * username. Nothing here ever puts the value into a message.
 */

export const PASSWORD_MIN = 8;
export const PASSWORD_MAX = 128;
const USERNAME_MIN = 3;
const USERNAME_MAX = 64;
/** Longest password a login even hashes: longer can never match (PASSWORD_MAX), but is still answered in hashing time. */
const LOGIN_INPUT_MAX = 1024;

/** Unicode code points, so "密码密码密码密码" counts 8, as the user typed it. */
const length = (value: string) => [...value].length;

/**
 * A username as stored and compared: NFKC (full-width and compatibility forms fold into one),
 * lower-cased (case folding), NFKC again (lower-casing may leave a non-normal form).
 * ARGUMENT_INVALID when it is not 3–64 characters without blanks or control characters.
 */
export function normaliseUsername(fn: string, value: unknown): string {
  if (typeof value !== "string") throw new ElementError("ARGUMENT_INVALID", { function: fn, argument: "username", reason: "must be a string" });
  const name = value.normalize("NFKC").toLowerCase().normalize("NFKC");
  if (length(name) < USERNAME_MIN || length(name) > USERNAME_MAX) {
    throw new ElementError("ARGUMENT_INVALID", { function: fn, argument: "username", reason: `must be ${USERNAME_MIN} to ${USERNAME_MAX} characters` });
  }
  if (/[\p{Cc}\p{Cf}\p{Z}\s]/u.test(name)) {
    throw new ElementError("ARGUMENT_INVALID", { function: fn, argument: "username", reason: "must not contain blanks or control characters" });
  }
  return name;
}

/** A password argument to check against a stored hash: a non-empty string (its length is not a hint). */
export function requirePasswordInput(fn: string, argument: string, value: unknown): string {
  if (typeof value !== "string" || value.length === 0 || value.length > LOGIN_INPUT_MAX) {
    throw new ElementError("ARGUMENT_INVALID", { function: fn, argument, reason: `must be a non-empty string of at most ${LOGIN_INPUT_MAX} characters` });
  }
  return value;
}

let common: ReadonlySet<string> | undefined;

/** The shipped list, read once on first use (about 18,000 passwords, 170 KB). */
export function commonPasswords(): ReadonlySet<string> {
  common ??= new Set(readFileSync(new URL("./commonPasswords.txt", import.meta.url), "utf8").split("\n").filter(Boolean));
  return common;
}

/** PASSWORD_TOO_WEAK with the rule it breaks, else the password (as given; hashing normalises it). */
export function requireNewPassword(fn: string, argument: string, value: unknown, username: string | null): string {
  if (typeof value !== "string") throw new ElementError("ARGUMENT_INVALID", { function: fn, argument, reason: "must be a string" });
  const n = value.normalize("NFKC");
  if (length(n) < PASSWORD_MIN) throw new LoginError("PASSWORD_TOO_WEAK", { reason: `it must be at least ${PASSWORD_MIN} characters` });
  if (length(n) > PASSWORD_MAX) throw new LoginError("PASSWORD_TOO_WEAK", { reason: `it must be at most ${PASSWORD_MAX} characters` });
  const folded = n.toLowerCase();
  if (commonPasswords().has(folded)) throw new LoginError("PASSWORD_TOO_WEAK", { reason: "it is one of the most common passwords" });
  if (username !== null && folded === username) throw new LoginError("PASSWORD_TOO_WEAK", { reason: "it must not be the username" });
  return value;
}
