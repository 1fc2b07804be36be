#!/usr/bin/env node
// `npm start`: the demo quick start. TypeScript runs without a build step through tsx.
import { register } from "tsx/esm/api";

// Who started us, read before the slow part (loading TypeScript): if npm is stopped while we
// start, demo.ts must still see that its parent changed (stopWhenOrphaned).
globalThis.jitDemoParentPid = process.ppid;

register();
await import("./demo.ts");
