/**
 * .ci/run's check that the PostgreSQL the tests use answers (JIT_TEST_PG, else the default):
 * exit 0 with one line, or exit 1 naming it (without credentials) and why.
 * Usage: node cli/run-ts.js test/helpers/pgCheck.ts
 */
import { reach, testPgUrl, withoutCredentials } from "./pgGlobalSetup.ts";

const url = testPgUrl();
const reason = await reach(url);
if (reason === null) {
  console.log(`PostgreSQL at ${withoutCredentials(url)} answers`);
} else {
  console.error(`PostgreSQL at ${withoutCredentials(url)} does not answer (${reason}); start it or set JIT_TEST_PG=postgres://user@host:port/database`);
  process.exit(1);
}
