#!/usr/bin/env node
// `jit` run from its TypeScript sources, for this repository's tests and development. The
// installed package's command is the compiled dist/cli/jit.js (cli/jit.ts).
import { runFromSources } from "./sourceMode.js";

runFromSources();
await import("./main.ts");
