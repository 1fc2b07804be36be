#!/usr/bin/env node
// The package's `jit` command (compiled to dist/cli/jit.js). It runs as plain JavaScript:
// tsx is loaded only when an app has TypeScript element code (runtime/registry/code.ts).
import "./main.ts";
