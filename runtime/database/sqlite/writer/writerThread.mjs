// Entry of the SQLite writer thread from the TypeScript sources: a worker thread does not
// inherit the loader hooks of the thread that started it, so it registers them itself (tsx,
// and the "jit-source" condition under which a family's write units import `#runtime/...`)
// before loading the real module.
import { runFromSources } from "../../../../cli/sourceMode.js";

runFromSources();
await import("./writerThread.ts");
