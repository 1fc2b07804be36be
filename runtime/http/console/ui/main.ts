import { admin, AdminRefused, adminToken, takeTokenFromUrl } from "./adminApi.ts";
import { h, replace } from "./dom.ts";
import { elementsView } from "./elements.ts";
import type { ConsoleTab, ConsoleTabs } from "../../../family/consoleUi.ts";
import { uiKit } from "./kit.ts";

/**
 * The console shell: the admin-token gate, the tabs, a message line. The families' tabs come
 * first (the bundle's entry, made by scripts/consoleBuild.ts, passes them), then the element
 * tree every app has.
 */
type Overview = Record<string, unknown> & { appId: string };
const root = document.getElementById("root")!;
const message = h("div", { class: "message", role: "status", "data-testid": "message" });

function say(text: string, error = false): void {
  message.className = `message ${error ? "error" : "info"}`;
  message.textContent = text;
}

function gate(reason?: string): void {
  adminToken.clear();
  const input = h("input", { type: "password", autocomplete: "off", placeholder: "admin token", "data-testid": "token-input", "aria-label": "admin token" });
  replace(
    root,
    h(
      "form",
      {
        class: "gate panel",
        onsubmit: (event: Event) => {
          event.preventDefault();
          adminToken.set(input.value.trim());
          void start();
        },
      },
      h("h1", {}, "jit-runtime console"),
      h("p", {}, "Paste the admin token: JIT_ADMIN_TOKEN, or the link `jit serve --console` printed at start-up."),
      reason ? h("p", { class: "error", "data-testid": "gate-error" }, reason) : null,
      input,
      h("button", { type: "submit" }, "Open console"),
    ),
  );
}

let familyTabs: ConsoleTab[] = [];

async function start(): Promise<void> {
  if (!adminToken.get()) return gate();
  let overview: Overview;
  try {
    overview = await admin<Overview>("GET", "/console/api/overview");
  } catch (err) {
    return gate(err instanceof AdminRefused ? "That admin token was refused." : `The console did not answer: ${(err as Error).message}`);
  }
  const main = h("main", {});
  const tabs: [string, string, () => void | Promise<void>][] = [
    ...familyTabs.map((tab): [string, string, () => void | Promise<void>] => [tab.id, tab.label, () => tab.open(main, overview)]),
    ["elements", "Elements", () => elementsView(main)],
  ];
  const nav = h("nav", { class: "tabs" });
  const open = (id: string) => {
    for (const b of nav.querySelectorAll("button")) b.classList.toggle("active", b.dataset.tab === id);
    say("");
    void tabs.find((t) => t[0] === id)![2]();
  };
  replace(nav, tabs.map(([id, label]) => h("button", { "data-tab": id, "data-testid": `tab-${id}`, onclick: () => open(id) }, label)), h("a", { href: "/docs", target: "_blank", rel: "noopener" }, "API docs"));
  replace(root, h("header", {}, h("div", { class: "brand" }, "jit-runtime", h("span", { class: "muted" }, ` app ${overview.appId}`)), nav, h("button", { class: "secondary small", onclick: () => gate() }, "Lock")), message, main);
  open(tabs[0]![0]);
}

window.addEventListener("unhandledrejection", (event) => {
  if (event.reason instanceof AdminRefused) gate("The admin token was refused.");
  else say(`${(event.reason as { code?: string })?.code ?? "error"}: ${(event.reason as Error)?.message ?? String(event.reason)}`, true);
});

/** Starts the console with the tabs of the app's families. */
export function startConsole(families: readonly ConsoleTabs[]): void {
  const kit = { ...uiKit, say };
  familyTabs = families.flatMap((tabsOf) => tabsOf(kit));
  takeTokenFromUrl();
  void start();
  // The start-up link opened in a tab already on the console changes only the fragment.
  window.addEventListener("hashchange", () => {
    if (!/token=/.test(location.hash)) return;
    takeTokenFromUrl();
    void start();
  });
}
