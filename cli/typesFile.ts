import type { App } from "../runtime/app/App.ts";
import type { ElementDefine } from "../runtime/element/types.ts";
import type { FieldDecl } from "../elements/models/Meta/fields.ts";

/**
 * The declaration file `jit types` writes: `ElementTypes` of the app, so that
 * `app.getElement("models.OrderModel")` and `app.getElement("auths.loginTypes.myLogin")`
 * are typed by their fullName. Models get a row and an input type from their fields; login
 * elements the interface of their Type. Elements of other kinds are left out (getElement<T>
 * still types them by hand).
 */

const LOGIN_TYPES: Array<[string, string]> = [
  ["auths.loginTypes.WeChatMiniType", "WeChatMiniLogin"],
  ["auths.loginTypes.PasswordType", "PasswordLogin"],
  ["auths.loginTypes.services.AuthSvc", "AuthService"],
];

function valueType(field: FieldDecl): string {
  switch (field.dataType) {
    case "AutoInt":
    case "Numeric":
    case "Datetime":
      return "number";
    case "JitDict":
      return "Record<string, unknown>";
    default:
      return "string"; // Stext, Ltext, Date (YYYY-MM-DD), Money (an exact decimal string)
  }
}

function inputType(field: FieldDecl): string {
  // Money also takes a whole number; never a fractional one (checked when the app runs).
  return field.dataType === "Money" ? "string | number" : valueType(field);
}

const typeName = (fullName: string) => fullName.split(".").map((s) => s.charAt(0).toUpperCase() + s.slice(1)).join("");
const key = (name: string) => (/^[A-Za-z_$][A-Za-z0-9_$]*$/.test(name) ? name : JSON.stringify(name));

function modelTypes(define: ElementDefine): { decls: string; entry: string } {
  const fields = (define.declared.fields as FieldDecl[]) ?? [];
  const name = typeName(define.fullName);
  const pk = fields.find((f) => f.primaryKey);
  const row = fields.map((f) => `  ${key(f.name)}: ${valueType(f)}${f.primaryKey || f.required ? "" : " | null"};`);
  const input = fields.flatMap((f) => {
    if (f.dataType === "AutoInt") return []; // numbered by the database
    const needed = f.primaryKey || (f.required && (f.default === undefined || f.default === null));
    return [`  ${key(f.name)}${needed ? "" : "?"}: ${inputType(f)}${needed ? "" : " | null"};`];
  });
  const title = define.title ? ` (${define.title.replace(/\*\//g, "* /")})` : "";
  return {
    decls: [`/** A row of ${define.fullName}${title}. */`, `export interface ${name}Row {`, ...row, "}", `/** What ${define.fullName}.create takes. */`, `export interface ${name}Input {`, ...input, "}"].join("\n"),
    entry: `    ${JSON.stringify(define.fullName)}: TypedModel<${name}Row, ${name}Input${pk ? `, ${JSON.stringify(pk.name)}` : ""}>;`,
  };
}

export function typesFile(app: App): string {
  const models: string[] = [];
  const entries: string[] = [];
  const logins: Array<[string, string]> = [];
  for (const define of app.listElements()) {
    if (define.kind !== "instance") continue;
    const chain = new Set(define.chain.map((c) => c.fullName));
    if (chain.has("models.Meta")) {
      const { decls, entry } = modelTypes(define);
      models.push(decls);
      entries.push(entry);
      continue;
    }
    const hit = LOGIN_TYPES.find(([type]) => chain.has(type) && define.fullName !== type);
    if (hit) logins.push([define.fullName, hit[1]]);
  }
  return renderTypes(app.appId, models, entries, logins);
}

/** The file for a login instance of a new app (`jit init`), before its AppSecret is set. */
export function initialTypesFile(appId: string, loginFullName: string): string {
  return renderTypes(appId, [], [], [[loginFullName, "WeChatMiniLogin"]]);
}

function renderTypes(appId: string, models: string[], modelEntries: string[], logins: Array<[string, string]>): string {
  const interfaces = [...new Set(logins.map(([, i]) => i))].sort();
  return [
    `// Written by \`jit types\` from the declarations of app "${appId}". Do not edit: rerun`,
    "// `npx jit types` after adding or changing a model or an element.",
    'import type { TypedModel } from "jit-runtime/models";',
    ...(interfaces.length > 0 ? [`import type { ${interfaces.join(", ")} } from "jit-runtime/login";`] : []),
    "",
    ...models.flatMap((d) => [d, ""]),
    'declare module "jit-runtime" {',
    "  interface ElementTypes {",
    ...modelEntries,
    ...logins.map(([name, i]) => `    ${JSON.stringify(name)}: ${i};`),
    "  }",
    "}",
    "",
  ].join("\n");
}
