export * from "./codes.ts";
export * from "./JitError.ts";
