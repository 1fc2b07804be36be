#!/usr/bin/env node
// `npm start`: the demo quick start, run from the TypeScript sources (cli/sourceMode.js).
import { runFromSources } from "../cli/sourceMode.js";

// Who started us, read before the slow part (loading TypeScript): if npm is stopped while we
// start, demo.ts must still see that its parent changed (stopWhenOrphaned).
globalThis.jitDemoParentPid = process.ppid;

runFromSources();
await import("./demo.ts");
