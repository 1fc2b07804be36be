import { defineConfig } from "vitest/config";

export default defineConfig({
  test: {
    include: ["test/**/*.test.ts"],
    // Finds PostgreSQL once per run: the PostgreSQL suites fail under CI without it, skip elsewhere.
    globalSetup: ["test/helpers/pgGlobalSetup.ts"],
    testTimeout: 30_000,
    hookTimeout: 60_000,
    // SQLite files and child processes: keep files isolated but avoid oversubscribing 2 cores.
    pool: "forks",
    poolOptions: { forks: { maxForks: 2, minForks: 1 } },
  },
});
