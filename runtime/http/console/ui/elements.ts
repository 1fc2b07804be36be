import { admin } from "./adminApi.ts";
import { h, json, replace } from "./dom.ts";
import { fieldsTable, type FieldView } from "./fields.ts";

interface Ref { fullName: string; layer: string; file: string }
interface ElementView {
  fullName: string;
  kind: string;
  type: string;
  title: string;
  accessModifier: string;
  layer: string;
  file: string;
  served: boolean;
  chain: Ref[];
  shadows: Ref[];
  functionList: { name: string; title?: string; loginRequired: number; http?: boolean; args: { name: string; dataType: string }[] }[];
  config: Record<string, unknown>;
}

/** The element tree (indented by fullName segment) and, for the chosen one, what `jit show` prints. */
export async function elementsView(root: HTMLElement): Promise<void> {
  const { elements } = await admin<{ elements: ElementView[] }>("GET", "/console/api/elements");
  const detail = h("section", { class: "detail", "data-testid": "element-detail" }, h("p", { class: "muted" }, "Choose an element."));
  const show = (e: ElementView) => {
    replace(
      detail,
      h("h2", {}, e.fullName),
      h("p", {}, `${e.kind}${e.type ? ` of ${e.type}` : ""} · layer ${e.layer} · ${e.accessModifier}${e.served ? " · served over HTTP" : ""}`),
      h("p", { class: "muted" }, e.title),
      h("h3", {}, "Chain"),
      h("ol", { class: "chain" }, e.chain.map((c) => h("li", {}, h("code", {}, c.fullName), " ", h("span", { class: "tag" }, c.layer), h("div", { class: "muted small" }, c.file)))),
      e.shadows.length ? [h("h3", {}, "Overrides"), h("ul", {}, e.shadows.map((c) => h("li", {}, h("code", {}, c.fullName), " ", h("span", { class: "tag" }, c.layer))))] : null,
      h("h3", {}, "Functions"),
      e.functionList.length
        ? h("ul", { class: "functions" }, e.functionList.map((f) => h("li", {}, h("code", {}, `${f.name}(${f.args.map((a) => `${a.name}: ${a.dataType}`).join(", ")})`), f.loginRequired ? "" : h("span", { class: "tag" }, "no login"), f.http === false ? h("span", { class: "tag" }, "server only") : "", f.title ? h("span", { class: "muted" }, ` ${f.title}`) : null)))
        : h("p", { class: "muted" }, "none"),
      Array.isArray(e.config.fields) ? [h("h3", {}, "Fields"), fieldsTable(e.config.fields as FieldView[])] : null,
      h("h3", {}, "Effective config (secrets masked)"),
      json(e.config),
    );
  };
  // Grouped by the folder of the fullName (its parent path), the way elements sit on disk.
  const groups = new Map<string, ElementView[]>();
  for (const e of elements) {
    const parent = e.fullName.split(".").slice(0, -1).join(".");
    groups.set(parent, [...(groups.get(parent) ?? []), e]);
  }
  const list = h(
    "div",
    { class: "tree", "data-testid": "element-tree" },
    [...groups].map(([parent, members]) =>
      h(
        "div",
        { class: "group" },
        h("div", { class: "group-name muted small" }, parent || "(root)"),
        h("ul", { class: "plain" }, members.map((e) => h("li", {}, h("button", { class: "link", onclick: () => show(e) }, e.fullName.split(".").pop()!), h("span", { class: `tag ${e.kind}` }, e.kind), e.served ? h("span", { class: "tag" }, "HTTP") : null))),
      ),
    ),
  );
  replace(root, h("div", { class: "split" }, h("nav", { class: "panel" }, list), detail));
  const first = elements.find((e) => e.served) ?? elements[0];
  if (first) show(first);
}
