#!/usr/bin/env node
// `npm start`: the demo quick start. TypeScript runs without a build step through tsx.
import { register } from "tsx/esm/api";

register();
await import("./demo.ts");
