import { mkdir } from "node:fs/promises";
import path from "node:path";
import type { Page } from "playwright-core";
import { afterAll, beforeAll, describe, expect, it } from "vitest";
import { startFakeWeChatServer, type FakeWeChatServer } from "jit-runtime/testing";
import { buildConsole } from "../scripts/consoleBuild.ts";
import { chromiumAvailable, launchChromium } from "./helpers/chromium.ts";
import { DEMO_APPID, DEMO_SECRET, REPO, TEST_MASTER_KEY, makeTempRoot, removeDir } from "./helpers/http.ts";
import { JIT_BIN, startChild, type Child } from "./helpers/httpChild.ts";

const TOKEN = "e2e-admin-token-0123456789abcdef";
const SHOTS = process.env.JIT_SCREENSHOTS === "1" ? path.join(REPO, "docs", "images") : null;

// The console in headless Chromium against a real `jit serve --console` child and the fake
// WeChat server: the admin token gate, the simulated mini program's first and second login,
// the user in the users list, and an unbind from the console seen by the next login.
describe.skipIf(!chromiumAvailable(import.meta.filename))("console in Chromium", () => {
  let root: string;
  let fake: FakeWeChatServer;
  let child: Child;
  let base: string;
  let browser: Awaited<ReturnType<typeof launchChromium>>;
  let page: Page;
  const pageLog: string[] = [];

  beforeAll(async () => {
    await buildConsole();
    root = await makeTempRoot();
    fake = await startFakeWeChatServer({ apps: [{ appId: DEMO_APPID, appSecret: DEMO_SECRET }] });
    child = startChild([JIT_BIN, "--root", root, "--app", "demo", "serve", "--port", "0", "--console", "--docs", "--db", path.join(root, "data", "e2e.sqlite")], {
      WECHAT_API_BASE: fake.url,
      JIT_MASTER_KEY: TEST_MASTER_KEY,
      JIT_ADMIN_TOKEN: TOKEN,
      JIT_RATE_LIMIT_IP: "off",
      JIT_LOG_LEVEL: "info",
    });
    base = (await child.waitFor(/listening on (http:\/\/127\.0\.0\.1:\d+)/))[1]!;
    browser = await launchChromium();
    page = await browser.context.newPage();
    page.on("dialog", (dialog) => void dialog.accept());
    // Failures name what the page said (CSP refusals, script errors) instead of timing out blind.
    page.on("console", (m) => pageLog.push(`${m.type()}: ${m.text()}`));
    page.on("pageerror", (e) => pageLog.push(`pageerror: ${e.message}`));
    page.setDefaultTimeout(10_000);
    if (SHOTS) await mkdir(SHOTS, { recursive: true });
  });
  afterAll(async () => {
    if (pageLog.length) process.stdout.write(`page log:\n${pageLog.join("\n")}\n`);
    await browser?.close();
    child?.kill();
    await child?.exited;
    await fake?.close();
    if (root) await removeDir(root);
  });

  const shot = async (name: string) => {
    if (!SHOTS) return;
    await page.evaluate(() => {
      window.scrollTo(0, 0);
      for (const el of document.querySelectorAll(".steps")) el.scrollTop = 0;
    });
    await page.screenshot({ path: path.join(SHOTS, `${name}.png`) });
  };
  const stepNames = () => page.locator("[data-testid=step]").evaluateAll((els) => els.map((e) => `${e.getAttribute("data-step")}:${e.classList.contains("ok") ? "ok" : "failed"}`));
  const tapLogin = async (expected: number) => {
    await page.getByTestId("sim-login").click();
    await page.waitForFunction((n) => document.querySelectorAll("[data-testid=step][data-step=loginByCode]").length >= n, expected, { timeout: 15_000 });
    await page.getByTestId("sim-session").waitFor();
  };

  it("refuses a missing or wrong admin token", async () => {
    await page.goto(`${base}/console/`);
    await page.getByTestId("token-input").waitFor();
    await page.getByTestId("token-input").fill("not-the-admin-token-at-all");
    await page.getByRole("button", { name: "Open console" }).click();
    await expect.poll(() => page.getByTestId("gate-error").textContent()).toContain("refused");
    expect(await page.getByTestId("tab-users").count()).toBe(0);
    expect(child.stdout() + child.stderr()).not.toContain("not-the-admin-token-at-all");
  });

  it("logs a simulated mini program in (registration), again (login code), and shows the user with its binding", async () => {
    // The start-up link: the token travels in the fragment and leaves the address bar.
    await page.goto(`${base}/console/#token=${TOKEN}`);
    await page.getByTestId("phone").waitFor();
    expect(new URL(page.url()).hash).toBe("");
    await page.getByTestId("sim-new-user").click();
    const openId = await page.getByTestId("sim-user").inputValue();
    expect(openId).toMatch(/^sim-/);

    await tapLogin(1);
    expect(await stepNames()).toEqual(["wx.login:ok", "getLoginCode:ok", "register:ok", "loginByCode:ok"]);
    const firstUser = Number(/user (\d+)/.exec((await page.getByTestId("sim-session").textContent())!)![1]);
    await page.getByTestId("sim-me").click();
    await page.waitForFunction(() => document.querySelectorAll("[data-testid=step][data-step=call]").length >= 1);
    await shot("console-simulator");

    await tapLogin(2);
    const second = (await stepNames()).slice(5);
    expect(second).toEqual(["wx.login:ok", "getLoginCode:ok", "loginByCode:ok"]);
    expect(await page.getByTestId("sim-session").textContent()).toContain(`user ${firstUser}`);

    await page.getByTestId("tab-users").click();
    await page.getByTestId("user-search").fill(openId);
    await page.getByRole("button", { name: "Search" }).click();
    const row = page.locator(`[data-testid=user-row][data-user-id="${firstUser}"]`);
    await row.waitFor();
    expect(await row.getByTestId("binding").textContent()).toContain(openId);
    expect(await page.getByTestId("user-count").textContent()).toBe("1–1 of 1");
    await row.getByTestId("show-sessions").click();
    await row.getByTestId("end-session").first().waitFor();
    await page.getByTestId("user-search").fill("");
    await page.getByRole("button", { name: "Search" }).click();
    await page.locator("[data-testid=user-row]").first().waitFor();
    await shot("console-users");

    await page.getByTestId("tab-elements").click();
    await page.getByTestId("element-detail").getByText("Effective config (secrets masked)").waitFor();
    expect(await page.getByTestId("element-detail").textContent()).not.toContain("demo-secret-for-the-fake-wechat-server");
    await shot("console-elements");
  });

  it("reflects an unbind from the console in the next login: the WeChat user registers anew", async () => {
    await page.getByTestId("tab-sim").click();
    const openId = await page.getByTestId("sim-user").inputValue();
    await page.getByTestId("tab-users").click();
    await page.getByTestId("user-search").fill(openId);
    await page.getByRole("button", { name: "Search" }).click();
    const row = page.locator("[data-testid=user-row]").first();
    await row.getByTestId("unbind").waitFor();
    const oldUser = Number(await row.getAttribute("data-user-id"));
    await row.getByTestId("unbind").click();
    await page.getByTestId("no-binding").waitFor();
    expect(await page.getByTestId("message").textContent()).toContain(`Unbound user ${oldUser}`);

    await page.getByTestId("tab-sim").click();
    expect(await page.getByTestId("sim-user").inputValue()).toBe(openId);
    await tapLogin(1);
    expect(await stepNames()).toEqual(["wx.login:ok", "getLoginCode:ok", "register:ok", "loginByCode:ok"]);
    const newUser = Number(/user (\d+)/.exec((await page.getByTestId("sim-session").textContent())!)![1]);
    expect(newUser).not.toBe(oldUser);
    // The unbind is in the server's log with its request id.
    const line = child.stderr().split("\n").find((l) => l.includes('"admin":"unbind"'));
    expect(line && JSON.parse(line)).toMatchObject({ reqId: expect.any(String), userId: oldUser });
    expect(child.stderr()).not.toContain(TOKEN);
    // The page ran under its CSP without one refusal (no inline script or style anywhere).
    expect(pageLog.filter((l) => l.includes("Content Security Policy"))).toEqual([]);
  });

  it("renders the API page (Swagger UI from the package) with every served function, fetching nothing from elsewhere", async () => {
    const elsewhere: string[] = [];
    const docs = await browser.context.newPage();
    docs.on("request", (r) => {
      if (!r.url().startsWith(base)) elsewhere.push(r.url());
    });
    try {
      await docs.goto(`${base}/docs`);
      await docs.locator(".opblock-summary-path").first().waitFor({ timeout: 15_000 });
      const paths = await docs.locator(".opblock-summary-path").allTextContents();
      expect(paths.map((p) => p.replace(/\u200b/g, ""))).toContain("/api/demo/auths/loginTypes/myWeChatMiniLogin/getLoginCode");
      expect(elsewhere).toEqual([]);
    } finally {
      await docs.close();
    }
  });
});
