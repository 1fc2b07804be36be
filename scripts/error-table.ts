// Prints the documented error-code table from the registry (the runtime's codes and every
// platform family's): `node cli/run-ts.js scripts/error-table.ts`. The documentation keeps
// the printed table; test/errors.test.ts checks the two agree.
import { platformErrorTable } from "../test/helpers/errorTable.ts";

const rows = [...(await platformErrorTable())].map(([code, { spec }]) => {
  const { family, status, message } = spec;
  return `| \`${code}\` | ${status} | ${family} | ${message.replace(/\|/g, "\\|")} |`;
});
console.log(["| code | HTTP | family | message |", "| --- | --- | --- | --- |", ...rows].join("\n"));
