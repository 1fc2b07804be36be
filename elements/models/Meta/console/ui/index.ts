import type { ConsoleTab, ConsoleTabs, ConsoleUiKit } from "jit-runtime/element";

/**
 * The models family's console tab, bundled with the console's shell (scripts/consoleBuild.ts
 * finds it beside the family's Meta): each model's rows page by page, read-only, and its
 * fields. Browser code: it reaches the shell's helpers through the kit, never by import.
 */

interface Field {
  name: string;
  title?: string;
  dataType: string;
  [option: string]: unknown;
}
interface ModelView { fullName: string; title: string; fields: Field[] }
interface RowsPage { fullName: string; fields: Field[]; page: number; size: number; rowDatas: Record<string, unknown>[]; totalCount: number }

const SIZE = 20;
const OPTIONS = ["primaryKey", "required", "unique", "dbIndex", "maxLength", "default", "renamedFrom"];

function cell(value: unknown): string {
  if (value === null || value === undefined) return "";
  return typeof value === "object" ? JSON.stringify(value) : String(value);
}

function dataTab(kit: ConsoleUiKit): ConsoleTab {
  return { id: "data", label: "Data", open: (root) => dataView(kit, root) };
}

async function dataView(kit: ConsoleUiKit, root: HTMLElement): Promise<void> {
  const { h, replace, admin } = kit;
  const { models } = await admin<{ models: ModelView[] }>("GET", "/console/api/models");
  const detail = h("section", { class: "detail", "data-testid": "data-detail" }, h("p", { class: "muted" }, models.length ? "Choose a model." : "This app declares no models."));
  const fieldsTable = (fields: Field[]) =>
    h(
      "table",
      { "data-testid": "model-fields" },
      h("thead", {}, h("tr", {}, ["field", "title", "data type", "options"].map((t) => h("th", {}, t)))),
      h("tbody", {}, fields.map((f) => h("tr", {}, h("td", {}, h("code", {}, f.name)), h("td", {}, f.title ?? ""), h("td", {}, f.dataType), h("td", {}, OPTIONS.filter((o) => f[o] !== undefined && f[o] !== false).map((o) => h("span", { class: "tag" }, f[o] === true ? o : `${o} ${JSON.stringify(f[o])}`)))))),
    );
  const open = async (fullName: string, page: number) => {
    const rows = await admin<RowsPage>("GET", `/console/api/models/rows?model=${encodeURIComponent(fullName)}&page=${page}&size=${SIZE}`);
    const pages = Math.max(1, Math.ceil(rows.totalCount / SIZE));
    const names = rows.fields.map((f) => f.name);
    replace(
      detail,
      h("h2", {}, fullName),
      h("p", { "data-testid": "data-count" }, `${rows.totalCount} row(s) · page ${page} of ${pages}`),
      h(
        "table",
        { "data-testid": "rows" },
        h("thead", {}, h("tr", {}, names.map((n) => h("th", {}, n)))),
        h("tbody", {}, rows.rowDatas.map((r) => h("tr", {}, names.map((n) => h("td", {}, cell(r[n])))))),
      ),
      h(
        "div",
        { class: "pager" },
        h("button", { class: "secondary small", disabled: page <= 1, onclick: () => void open(fullName, page - 1) }, "previous"),
        h("button", { class: "secondary small", disabled: page >= pages, onclick: () => void open(fullName, page + 1) }, "next"),
      ),
      h("h3", {}, "Fields"),
      fieldsTable(rows.fields),
    );
  };
  const list = h("ul", { class: "plain", "data-testid": "data-list" }, models.map((m) => h("li", {}, h("button", { class: "link", onclick: () => void open(m.fullName, 1) }, m.fullName), h("span", { class: "muted small" }, ` ${m.title}`))));
  replace(root, h("div", { class: "split" }, h("nav", { class: "panel" }, list), detail));
  if (models[0]) await open(models[0].fullName, 1);
}

const tabs: ConsoleTabs = (kit) => [dataTab(kit)];
export default tabs;
