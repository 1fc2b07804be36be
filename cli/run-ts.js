#!/usr/bin/env node
// Runs a TypeScript entry point (benchmarks, scripts) from the sources (cli/sourceMode.js).
import { pathToFileURL } from "node:url";
import path from "node:path";
import { runFromSources } from "./sourceMode.js";

runFromSources();
const entry = process.argv[2];
if (!entry) {
  console.error("usage: node cli/run-ts.js <file.ts> [args...]");
  process.exit(2);
}
process.argv.splice(2, 1);
await import(pathToFileURL(path.resolve(entry)).href);
