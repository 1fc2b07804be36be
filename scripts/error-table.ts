// Prints the README's error-code table from the registry: `node cli/run-ts.js scripts/error-table.ts`.
// README keeps the printed table; test/errors.test.ts checks the two agree.
import { ERROR_CODES, type ErrorCode } from "../runtime/errors/codes.ts";

const rows = (Object.keys(ERROR_CODES) as ErrorCode[]).map((code) => {
  const { family, status, message } = ERROR_CODES[code];
  return `| \`${code}\` | ${status} | ${family} | ${message.replace(/\|/g, "\\|")} |`;
});
console.log(["| code | HTTP | family | message |", "| --- | --- | --- | --- |", ...rows].join("\n"));
