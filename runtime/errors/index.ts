export * from "./codes.ts";
export * from "./JitError.ts";
export * from "./quote.ts";
