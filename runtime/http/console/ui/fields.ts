import { h } from "./dom.ts";

/** A declared field of a data element (a model's e.json `fields`). */
export interface FieldView {
  name: string;
  title?: string;
  dataType: string;
  [option: string]: unknown;
}

const OPTIONS = ["primaryKey", "required", "unique", "dbIndex", "maxLength", "default", "renamedFrom"];

/** The fields as a table: name, title, data type and the options each declares. */
export function fieldsTable(fields: FieldView[]): HTMLTableElement {
  return h(
    "table",
    { "data-testid": "fields" },
    h("thead", {}, h("tr", {}, ["field", "title", "data type", "options"].map((t) => h("th", {}, t)))),
    h(
      "tbody",
      {},
      fields.map((f) =>
        h(
          "tr",
          {},
          h("td", {}, h("code", {}, f.name)),
          h("td", {}, f.title ?? ""),
          h("td", {}, f.dataType),
          h("td", {}, OPTIONS.filter((o) => f[o] !== undefined && f[o] !== false).map((o) => h("span", { class: "tag" }, f[o] === true ? o : `${o} ${JSON.stringify(f[o])}`))),
        ),
      ),
    ),
  );
}
