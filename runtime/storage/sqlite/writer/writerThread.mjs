// Entry of the SQLite writer thread: a worker thread does not inherit the TypeScript loader
// of the thread that started it, so it registers tsx itself before loading the real module.
import { register } from "tsx/esm/api";

register();
await import("./writerThread.ts");
