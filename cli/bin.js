#!/usr/bin/env node
// The `jit` command. App and Type code is TypeScript loaded without a build step,
// so the tsx loader is registered before anything else is imported.
import { register } from "tsx/esm/api";

register();
await import("./main.ts");
