// `npm run build:console`: the console's browser assets (see consoleBuild.ts).
import path from "node:path";
import { buildConsole } from "./consoleBuild.ts";

const out = await buildConsole();
process.stdout.write(`console assets built in ${path.relative(process.cwd(), out)}\n`);
