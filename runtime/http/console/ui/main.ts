import { admin, AdminRefused, adminToken, appChoice, takeTokenFromUrl } from "./adminApi.ts";
import { h, replace } from "./dom.ts";
import { elementsView } from "./elements.ts";
import type { ConsoleTab, ConsoleTabs } from "../../../family/consoleUi.ts";
import { uiKit } from "./kit.ts";

/**
 * The console shell: the admin-token gate, the tabs, a message line. The families' tabs come
 * first (the bundle's entry, made by scripts/consoleBuild.ts, passes them), then the element
 * tree every app has.
 */
interface AppProblem {
  code: string;
  message: string;
  file?: string;
  pointer?: string;
}
/** Every served app, each with the problems that keep its last good version serving (`jit dev`). */
type Overview = Record<string, unknown> & { appId: string; apps?: { appId: string; title: string; problems: AppProblem[] }[] };
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

/** The problems of the shown app's last change (`jit dev`), while its last good version serves. */
const problems = h("div", { class: "problems", role: "alert", "data-testid": "app-problems" });

function showProblems(overview: Overview): void {
  const list: AppProblem[] = overview.apps?.find((a) => a.appId === overview.appId)?.problems ?? [];
  if (list.length === 0) return replace(problems);
  replace(
    problems,
    h("strong", {}, `App ${overview.appId} was not reloaded: the last good version keeps serving until these are fixed`),
    h("ul", {}, list.map((p) => h("li", {}, h("code", {}, p.code), " ", p.file ? h("code", {}, `${p.file}${p.pointer ? `#${p.pointer}` : ""}`) : null, " ", p.message))),
  );
}

let polling: ReturnType<typeof setInterval> | undefined;

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
  const apps = overview.apps ?? [];
  const chooser =
    apps.length > 1
      ? h(
          "select",
          {
            "data-testid": "app-choice",
            "aria-label": "app",
            onchange: (event: Event) => {
              appChoice.set((event.target as HTMLSelectElement).value);
              void start();
            },
          },
          apps.map((a) => h("option", { value: a.appId, selected: a.appId === overview.appId }, `${a.appId}${a.problems.length ? " (not reloaded)" : ""}`)),
        )
      : h("span", { class: "muted" }, ` app ${overview.appId}`);
  replace(root, h("header", {}, h("div", { class: "brand" }, "jit-runtime", chooser), nav, h("button", { class: "secondary small", onclick: () => gate() }, "Lock")), problems, message, main);
  showProblems(overview);
  // The problems come and go with saved files: asked again every few seconds.
  if (polling) clearInterval(polling);
  polling = setInterval(() => {
    admin<Overview>("GET", "/console/api/overview").then(showProblems, () => undefined);
  }, 3000);
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
