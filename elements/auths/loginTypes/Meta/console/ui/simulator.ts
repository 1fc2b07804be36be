import type { ConsoleTab, ConsoleUiKit } from "jit-runtime/element";
import type { JitClient, Step } from "jit-runtime/miniprogram";

export interface Overview {
  appId: string;
  authService: { fullName: string; path: string };
  loginElements: { fullName: string; wechatAppId: string; path: string; simulator: boolean }[];
}

const USERS_KEY = "jit-console.sim-users";

/** This server's own origin adds nothing to a request's URL. */
function shorten(request: unknown): unknown {
  const r = request as { url?: unknown } | null;
  return r && typeof r.url === "string" ? { ...r, url: r.url.replace(location.origin, "") } : request;
}

/**
 * A phone-sized simulated mini program running the real client library. Its `wx` is the
 * shim: wx.request is fetch to this server, wx.login asks the console to mint a code at the
 * fake WeChat server. Each test WeChat user has its own phone storage, like a separate phone.
 */
export function simulatorTab(kit: ConsoleUiKit): ConsoleTab {
  return { id: "sim", label: "Mini program", open: (root, overview) => simulatorView(kit, root, overview as unknown as Overview) };
}

function simulatorView(kit: ConsoleUiKit, root: HTMLElement, overview: Overview): void {
  const { h, json, replace, admin, createClient, createWxShim } = kit;
  const login = overview.loginElements.find((l) => l.simulator);
  if (!login) {
    replace(root, h("p", { class: "notice" }, "The simulated mini program needs the fake WeChat server: start with WECHAT_API_BASE on 127.0.0.1 (npm start does)."));
    return;
  }
  const users: string[] = JSON.parse(localStorage.getItem(USERS_KEY) ?? "[]");
  const phones = new Map<string, Map<string, unknown>>();
  let openId = users[0] ?? "";
  let client: JitClient | null = null;

  const steps = h("ol", { class: "steps", "data-testid": "steps" });
  const status = h("div", { class: "status", "data-testid": "sim-status" });
  const result = h("div", { class: "result", "data-testid": "sim-result" });
  const picker = h("select", { "data-testid": "sim-user", "aria-label": "test WeChat user", onchange: () => choose(picker.value) });

  const addStep = (step: Step) => {
    steps.append(
      h(
        "li",
        { class: step.ok ? "ok" : "failed", "data-testid": "step", "data-step": step.name },
        h("div", { class: "step-name" }, step.name, h("span", { class: "tag" }, step.ok ? "ok" : "failed")),
        h("div", { class: "step-io" }, h("div", {}, h("h4", {}, "request"), json(shorten(step.request))), h("div", {}, h("h4", {}, "response"), json(step.response))),
      ),
    );
    steps.lastElementChild?.scrollIntoView({ block: "nearest" });
  };

  function choose(id: string) {
    openId = id;
    if (!phones.has(id)) phones.set(id, new Map());
    const wx = createWxShim({
      storage: phones.get(id)!,
      mintCode: async () => (await admin<{ code: string }>("POST", "/console/api/simulator/code", { loginElement: login!.fullName, openId: id })).code,
    });
    client = createClient({ baseUrl: location.origin, appId: overview.appId, loginElement: login!.fullName, authService: overview.authService.fullName, wx, onStep: addStep, platform: "console-simulator" });
    renderPicker();
    renderStatus();
  }

  function renderPicker() {
    replace(picker, users.length ? users.map((u) => h("option", { value: u, selected: u === openId }, u)) : h("option", { value: "" }, "no test user yet"));
  }

  function renderStatus() {
    const session = client?.session();
    replace(status, openId ? h("div", {}, h("div", { class: "muted small" }, "WeChat user"), h("code", {}, openId)) : null, session ? h("div", { "data-testid": "sim-session" }, `logged in as user ${session.userId}`, h("div", { class: "muted small" }, `token ${session.token.slice(0, 8)}…`)) : h("div", { class: "muted" }, "not logged in"));
  }

  function newUser() {
    const id = `sim-${Math.random().toString(36).slice(2, 10)}`;
    users.unshift(id);
    localStorage.setItem(USERS_KEY, JSON.stringify(users.slice(0, 20)));
    choose(id);
  }

  async function run(label: string, action: (c: JitClient) => Promise<unknown>) {
    if (!client) return;
    steps.append(h("li", { class: "marker" }, label));
    try {
      const value = await action(client);
      replace(result, h("div", { class: "ok", "data-testid": "sim-ok" }, `${label}: ok`), value === undefined ? null : json(value));
    } catch (err) {
      const e = err as { code?: string; message?: string };
      replace(result, h("div", { class: "failed", "data-testid": "sim-error" }, `${label}: ${e.code ?? "error"}`), h("div", { class: "small" }, e.message ?? String(err)));
    }
    renderStatus();
  }

  const button = (label: string, testid: string, action: (c: JitClient) => Promise<unknown>) => h("button", { "data-testid": testid, onclick: () => void run(label, action) }, label);

  const phone = h(
    "div",
    { class: "phone", "data-testid": "phone" },
    h("div", { class: "notch" }),
    h(
      "div",
      { class: "screen" },
      h("div", { class: "app-bar" }, "Mini program"),
      h("label", { class: "small" }, "Test WeChat user", picker),
      h("button", { class: "secondary", "data-testid": "sim-new-user", onclick: newUser }, "New test user"),
      status,
      button("Log in", "sim-login", (c) => c.login()),
      button("Who am I", "sim-me", (c) => c.call(overview.authService.fullName, "getCurrentUser")),
      button("Bind", "sim-bind", (c) => c.bind()),
      button("Unbind", "sim-unbind", (c) => c.unbind()),
      button("Log out", "sim-logout", (c) => c.logout()),
      result,
    ),
  );

  replace(
    root,
    h(
      "div",
      { class: "sim" },
      phone,
      h(
        "section",
        { class: "panel grow" },
        h("div", { class: "toolbar" }, h("h2", {}, "What the mini program does"), h("button", { class: "secondary", onclick: () => replace(steps) }, "Clear")),
        h("p", { class: "muted small" }, `${login.fullName} · WeChat AppID ${login.wechatAppId} · codes from the fake WeChat server`),
        steps,
      ),
    ),
  );
  if (openId) choose(openId);
  else {
    renderPicker();
    renderStatus();
  }
}
