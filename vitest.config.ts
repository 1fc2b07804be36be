import { defaultClientConditions, defaultServerConditions } from "vite";
import { defineConfig } from "vitest/config";

// Tests run the TypeScript sources: the "jit-source" condition resolves `jit-runtime/...`
// (package.json exports) to them instead of the compiled dist/.
const SOURCE = "jit-source";

export default defineConfig({
  resolve: { conditions: [SOURCE, ...defaultClientConditions] },
  ssr: { resolve: { conditions: [SOURCE, ...defaultServerConditions], externalConditions: [SOURCE] } },
  test: {
    include: ["test/**/*.test.ts"],
    // Finds PostgreSQL once per run: the PostgreSQL suites fail under CI without it, skip elsewhere.
    globalSetup: ["test/helpers/pgGlobalSetup.ts", "test/helpers/runIdGlobalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // SQLite files and child processes: keep files isolated but avoid oversubscribing 2 cores.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
