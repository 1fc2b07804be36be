import type { FamilySecrets } from "./types.ts";

/**
 * What the runtime itself knows to be secret whatever the family: session tokens, anything
 * named a secret, and credentials in HTTP headers. pino's redact matches object paths only,
 * not secrets inside strings (ARCHITECTURE.md, "Pitfalls"), so code must also never put a
 * secret into a message or URL it logs.
 */
export const RUNTIME_SECRETS: FamilySecrets = {
  fields: ["secret", "token"],
  args: ["token"],
  paths: ["req.headers.authorization", "headers.authorization", "*.headers.authorization", "req.headers.cookie", "headers.cookie"],
};

/** pino redact paths for these declarations (never a bare `code`: error codes travel under that name). */
export function redactPaths(declarations: readonly FamilySecrets[]): string[] {
  const paths = new Set<string>();
  for (const d of declarations) {
    for (const name of d.fields ?? []) paths.add(name).add(`*.${name}`);
    for (const name of d.args ?? []) paths.add(`args.${name}`).add(`*.args.${name}`).add(`body.${name}`).add(`*.body.${name}`);
    for (const path of d.paths ?? []) paths.add(path);
  }
  return [...paths];
}

const normalise = (name: string) => name.toLowerCase().replace(/[^a-z0-9]/g, "");

/**
 * Whether a config key holds a secret by its name: it contains a declared field name, case
 * and separators ignored (`appSecret` for `secret`, `api_key` for `apiKey`).
 */
export function secretKeyTest(declarations: readonly FamilySecrets[]): (key: string) => boolean {
  const names = [...new Set(declarations.flatMap((d) => d.fields ?? []).map(normalise))].filter(Boolean);
  return (key) => {
    const k = normalise(key);
    return names.some((name) => k.includes(name));
  };
}
