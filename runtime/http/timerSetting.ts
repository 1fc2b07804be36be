import { ConfigError } from "../errors/index.ts";

// setTimeout and setInterval turn delays above 2^31-1 ms (~24.8 days) into 1 ms, silently.
const MAX_TIMER_MS = 2 ** 31 - 1;

/**
 * A delay in milliseconds for a timer of the server: the option if given, else the
 * environment variable (plain digits; blank counts as unset), else the default. Anything
 * outside `min`..2^31-1 is CONFIG_INVALID naming where it came from, so a bad value stops
 * start-up instead of misbehaving when the timer first runs.
 */
export function resolveTimerMs(spec: {
  option: number | undefined;
  optionName: string;
  env: Readonly<Record<string, string | undefined>>;
  envName: string;
  fallback: number;
  min: number;
  /** The error's reason, given the text that was refused. */
  reason: (text: string) => string;
}): number {
  if (spec.option !== undefined) return check(spec.option, String(spec.option), spec.optionName, spec);
  const text = spec.env[spec.envName];
  if (text === undefined || text.trim() === "") return spec.fallback;
  // Digits only: Number() would also take "0x10", "1e3" or "+5".
  const trimmed = text.trim();
  return check(/^\d+$/.test(trimmed) ? Number(trimmed) : NaN, text, spec.envName, spec);
}

function check(value: number, text: string, source: string, spec: { min: number; reason: (text: string) => string }): number {
  if (!Number.isInteger(value) || value < spec.min || value > MAX_TIMER_MS) {
    throw new ConfigError("CONFIG_INVALID", { source, reason: spec.reason(text) });
  }
  return value;
}
