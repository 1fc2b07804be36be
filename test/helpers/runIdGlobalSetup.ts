/**
 * vitest globalSetup: one id per test run, so the test files that need the packed package
 * share one `npm pack` (packedPackage.ts) instead of each rebuilding dist/ under the others.
 */
import { randomUUID } from "node:crypto";
import type { TestProject } from "vitest/node";

declare module "vitest" {
  export interface ProvidedContext {
    testRunId: string;
  }
}

export default function setup(project: TestProject): void {
  project.provide("testRunId", randomUUID());
}
