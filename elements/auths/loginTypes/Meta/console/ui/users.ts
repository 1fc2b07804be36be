import type { ConsoleTab, ConsoleUiKit } from "jit-runtime/element";

interface Binding { appId: string; openId: string; unionId: string | null; createdAt: number }
interface UserView { user: { userId: number; name: string | null; createdAt: number; phone?: string }; bindings: Binding[]; corps: { corpId: string; corpName: string }[]; liveSessions: number }
interface Page { users: UserView[]; total: number; limit: number; offset: number }
interface SessionView { sessionId: string; corpId: string | null; createdAt: number; expiresAt: number }

const PAGE = 20;

/** Users, paged and searchable by userId, openId or unionId; unbind and end sessions. */
export function usersTab(kit: ConsoleUiKit): ConsoleTab {
  return { id: "users", label: "Users", open: (root) => usersView(kit, root) };
}

function usersView(kit: ConsoleUiKit, root: HTMLElement): void {
  const { h, replace, time, admin, say } = kit;
  let search = "";
  let offset = 0;
  const table = h("div", { "data-testid": "users" });
  const input = h("input", { type: "search", placeholder: "userId, openId or unionId", "data-testid": "user-search", "aria-label": "search users" });
  const form = h(
    "form",
    {
      class: "toolbar",
      onsubmit: (event: Event) => {
        event.preventDefault();
        search = input.value.trim();
        offset = 0;
        void load();
      },
    },
    input,
    h("button", { type: "submit" }, "Search"),
    h("button", { type: "button", onclick: () => void load() }, "Refresh"),
  );

  async function sessions(user: UserView, cell: HTMLElement) {
    const { sessions: list } = await admin<{ sessions: SessionView[] }>("GET", `/console/api/users/${user.user.userId}/sessions`);
    replace(
      cell,
      list.length
        ? h("ul", { class: "plain" }, list.map((s) => h("li", {}, h("code", {}, s.sessionId), ` until ${time(s.expiresAt)}${s.corpId ? ` · ${s.corpId}` : ""} `, h("button", { class: "danger small", "data-testid": "end-session", onclick: () => void end(user, s) }, "End"))))
        : h("span", { class: "muted" }, "no live session"),
    );
  }

  async function end(user: UserView, s: SessionView) {
    await admin("DELETE", `/console/api/users/${user.user.userId}/sessions/${s.sessionId}`);
    say(`Ended session ${s.sessionId} of user ${user.user.userId}`);
    await load();
  }

  async function unbind(user: UserView, b: Binding) {
    if (!confirm(`Unbind ${b.openId} (mini program ${b.appId}) from user ${user.user.userId}? Its sessions end too.`)) return;
    await admin("DELETE", `/console/api/users/${user.user.userId}/bindings/${encodeURIComponent(b.appId)}`);
    say(`Unbound user ${user.user.userId} from ${b.appId}`);
    // A search by that openId would no longer find the user: show it by its id.
    if (search) input.value = search = String(user.user.userId);
    await load();
  }

  async function load() {
    const query = new URLSearchParams({ limit: String(PAGE), offset: String(offset), ...(search ? { search } : {}) });
    const page = await admin<Page>("GET", `/console/api/users?${query}`);
    const rows = page.users.map((u) => {
      const sessionCell = h("td", {}, u.liveSessions ? h("button", { class: "link", "data-testid": "show-sessions", onclick: () => void sessions(u, sessionCell) }, `${u.liveSessions} live`) : h("span", { class: "muted" }, "0"));
      return h(
        "tr",
        { "data-testid": "user-row", "data-user-id": u.user.userId },
        h("td", {}, String(u.user.userId)),
        h("td", {}, u.user.name ?? h("span", { class: "muted" }, "—")),
        h("td", {}, time(u.user.createdAt)),
        h(
          "td",
          {},
          u.bindings.length
            ? u.bindings.map((b) =>
                h("div", { class: "binding", "data-testid": "binding" }, h("span", { class: "tag" }, b.appId), " ", h("code", {}, b.openId), b.unionId ? h("span", { class: "muted" }, ` union ${b.unionId}`) : null, " ", h("button", { class: "danger small", "data-testid": "unbind", onclick: () => void unbind(u, b) }, "Unbind")),
              )
            : h("span", { class: "muted", "data-testid": "no-binding" }, "not bound"),
        ),
        h("td", {}, u.corps.map((c) => c.corpName).join(", ") || h("span", { class: "muted" }, "—")),
        // Stored by getPhoneNumber / registerByPhone.
        u.user.phone ? h("td", { "data-testid": "user-phone" }, u.user.phone) : h("td", { class: "muted" }, "not stored"),
        sessionCell,
      );
    });
    const last = Math.min(page.offset + page.users.length, page.total);
    replace(
      table,
      h("table", {}, h("thead", {}, h("tr", {}, ["user", "name", "created (UTC)", "WeChat bindings", "organisations", "phone", "sessions"].map((t) => h("th", {}, t)))), h("tbody", {}, rows)),
      h(
        "div",
        { class: "pager" },
        h("span", { "data-testid": "user-count" }, page.total ? `${page.offset + 1}–${last} of ${page.total}` : "no users"),
        h("button", { disabled: offset === 0, onclick: () => ((offset = Math.max(0, offset - PAGE)), void load()) }, "Previous"),
        h("button", { disabled: last >= page.total, onclick: () => ((offset += PAGE), void load()) }, "Next"),
      ),
    );
  }

  replace(root, form, table);
  void load();
}
