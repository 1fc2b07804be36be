/**
 * Rival overrides are named: when an app extends two apps that both override one element and
 * neither extends the other, `jit validate` says so, naming both e.json files and the one
 * that wins; the app still loads (the first in `extends` order wins).
 */
import path from "node:path";
import { afterAll, beforeAll, expect, it } from "vitest";
import { runJit } from "./helpers/cliRun.ts";
import { appJson, greeterFamily, makeFixture } from "./helpers/appFixture.ts";

let fx: { root: string; cleanup: () => Promise<void> };

beforeAll(async () => {
  const greeter = (greeting: string) => ({ title: `greeter of ${greeting}`, type: "demo.GreeterType", greeting });
  fx = await makeFixture({
    ...greeterFamily(),
    "elements/demo/GreeterType/e.json": { ...(greeterFamily()["elements/demo/GreeterType/e.json"] as object), defaults: { greeting: "hello", auth: { appId: "x", appSecret: "y" } } },
    ...appJson("app", ["left", "right"]),
    ...appJson("left"),
    ...appJson("right"),
    "apps/left/elements/demo/rival/e.json": greeter("left"),
    "apps/right/elements/demo/rival/e.json": greeter("right"),
  });
});
afterAll(() => fx?.cleanup());

it("jit validate prints the warning with both files and the winner, and still passes", async () => {
  const run = await runJit(["--root", fx.root, "--app", "app", "validate"], { JIT_LOG_LEVEL: "silent" });
  expect(run.code).toBe(0);
  const left = path.join(fx.root, "apps/left/elements/demo/rival/e.json");
  const right = path.join(fx.root, "apps/right/elements/demo/rival/e.json");
  expect(run.stdout).toContain(
    `warning: demo.rival is overridden by two apps, neither extending the other: ${left} (app left) wins, being first in extends order; ${right} (app right) is hidden`,
  );
  // The apps that only define it are not warned about.
  const alone = await runJit(["--root", fx.root, "--app", "left", "validate"], { JIT_LOG_LEVEL: "silent" });
  expect(alone.stdout).not.toContain("warning:");
});

it("jit validate without --app checks every app of the root", async () => {
  const run = await runJit(["--root", fx.root, "validate"], { JIT_LOG_LEVEL: "silent" });
  expect(run.code).toBe(0);
  expect(run.stdout.match(/^ok: \d+ elements \(app (\w+),/gm)?.map((l) => /app (\w+)/.exec(l)![1])).toEqual(["app", "left", "right"]);
  expect(run.stdout.match(/warning: demo\.rival/g)).toHaveLength(1);
});
