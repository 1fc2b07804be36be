#!/usr/bin/env node
// Regenerates elements/auths/loginTypes/PasswordType/commonPasswords.txt, the list of common
// passwords a new password is checked against. Source: the `passwords` list of the npm
// package @zxcvbn-ts/language-common (MIT; 4.1.3: 49,233 passwords ordered by frequency):
//   npm pack @zxcvbn-ts/language-common@4.1.3 && tar xzf zxcvbn-ts-language-common-4.1.3.tgz
//   node scripts/common-passwords.mjs package/src/passwords.json
// Kept: each entry NFKC-normalised and lower-cased (the check is case-insensitive), only
// those of 8 characters or more (shorter ones are refused by length anyway), first
// occurrence only, in the source's order.
import { readFileSync, writeFileSync } from "node:fs";
import path from "node:path";
import { fileURLToPath } from "node:url";

const source = process.argv[2];
if (!source) throw new Error("usage: node scripts/common-passwords.mjs <path to passwords.json>");
const out = path.resolve(path.dirname(fileURLToPath(import.meta.url)), "../elements/auths/loginTypes/PasswordType/commonPasswords.txt");
const seen = new Set();
for (const word of JSON.parse(readFileSync(source, "utf8"))) {
  const n = String(word).normalize("NFKC").toLowerCase();
  if ([...n].length >= 8) seen.add(n);
}
writeFileSync(out, [...seen].join("\n") + "\n");
console.log(`${seen.size} passwords → ${out}`);
