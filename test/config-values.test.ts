import { describe, expect, it } from "vitest";
import { resolveShutdownTimeout } from "../runtime/http/shutdown.ts";
import { resolveLogLevel } from "../runtime/logging/logger.ts";

// How the environment settings checked at start-up read their values (serve-startup.test.ts
// runs the refusals through the real CLI).
describe("JIT_LOG_LEVEL", () => {
  it("accepts pino's levels whatever the case or surrounding blanks; unset or blank is info", () => {
    expect(resolveLogLevel(undefined, { JIT_LOG_LEVEL: "INFO" })).toBe("info");
    expect(resolveLogLevel(undefined, { JIT_LOG_LEVEL: " debug\r" })).toBe("debug");
    expect(resolveLogLevel(undefined, { JIT_LOG_LEVEL: "  " })).toBe("info");
    expect(resolveLogLevel(undefined, {})).toBe("info");
    expect(() => resolveLogLevel(undefined, { JIT_LOG_LEVEL: "verbose" })).toThrow(expect.objectContaining({ code: "CONFIG_INVALID", message: expect.stringContaining("JIT_LOG_LEVEL") }));
  });
});

describe("JIT_SHUTDOWN_TIMEOUT_MS", () => {
  it("takes plain digits only; blank is the default", () => {
    expect(resolveShutdownTimeout(undefined, { JIT_SHUTDOWN_TIMEOUT_MS: " 2500 " })).toBe(2500);
    expect(resolveShutdownTimeout(undefined, { JIT_SHUTDOWN_TIMEOUT_MS: " " })).toBe(10_000);
    for (const bad of ["0x10", "1e3", "+5", "10s", "-1", "1.5", "0"]) {
      expect(() => resolveShutdownTimeout(undefined, { JIT_SHUTDOWN_TIMEOUT_MS: bad }), bad).toThrow(expect.objectContaining({ code: "CONFIG_INVALID" }));
    }
  });
});
