import { mkdir, writeFile } from "node:fs/promises";
import path from "node:path";

const ELEMENT_BASE = new URL("../../runtime/element/ElementBase.ts", import.meta.url).href;
const TYPES = 4;

async function put(file: string, value: unknown): Promise<void> {
  await writeFile(file, typeof value === "string" ? value : JSON.stringify(value, null, 2));
}

/**
 * Writes an app of `count` elements under `root`: one Meta with code and an e.schema.json,
 * a few Types with code, defaults and a config.schema.json (platform layer), and the rest
 * instances with a business config file each (app layer, 100 per folder).
 */
export async function generateApp(root: string, count: number): Promise<void> {
  await mkdir(root, { recursive: true });
  await put(path.join(root, "package.json"), { type: "module", private: true });
  await mkdir(path.join(root, "apps", "bench"), { recursive: true });
  await put(path.join(root, "apps", "bench", "app.json"), { appId: "bench", title: "Bench", version: "1.0.0", extends: [] });
  const metaDir = path.join(root, "elements", "bench", "Meta");
  await mkdir(metaDir, { recursive: true });
  await put(path.join(metaDir, "e.json"), { title: "Bench Meta", type: "", backendBundleEntry: "." });
  await put(path.join(metaDir, "index.ts"), `import { ElementBase } from ${JSON.stringify(ELEMENT_BASE)};\nexport default class BenchMeta extends ElementBase {}\n`);
  await put(path.join(metaDir, "e.schema.json"), { type: "object", properties: { allowRegister: { enum: [0, 1], default: 0 } } });
  for (let t = 0; t < TYPES; t++) {
    const dir = path.join(root, "elements", "bench", `T${t}Type`);
    await mkdir(dir, { recursive: true });
    await put(path.join(dir, "e.json"), {
      title: `Type ${t}`,
      type: "bench.Meta",
      backendBundleEntry: ".",
      defaults: { retries: 3, endpoint: { host: "127.0.0.1", port: 8000 + t } },
      functionList: [{ name: "ping", title: "Ping", args: [{ name: "what", dataType: "Stext" }], loginRequired: 0 }],
    });
    await put(path.join(dir, "index.ts"), `export default (P: any) => class T${t} extends P { ping(w: string) { return w; } };\n`);
    await put(path.join(dir, "config.schema.json"), {
      type: "object",
      required: ["authConfig", "retries"],
      properties: {
        retries: { type: "integer", minimum: 0 },
        endpoint: { type: "object", properties: { host: { type: "string" }, port: { type: "integer" } } },
        authConfig: {
          type: "object",
          required: ["appId", "appSecret"],
          properties: { appId: { type: "string", minLength: 1 }, appSecret: { type: "string", secret: true } },
        },
      },
    });
  }
  const instances = count - 1 - TYPES;
  const writes: Promise<void>[] = [];
  for (let i = 0; i < instances; i++) {
    const dir = path.join(root, "apps", "bench", "elements", "bench", `g${Math.floor(i / 100)}`, `inst${i}`);
    writes.push(
      (async () => {
        await mkdir(dir, { recursive: true });
        await put(path.join(dir, "e.json"), {
          title: `Instance ${i}`,
          type: `bench.T${i % TYPES}Type`,
          backendBundleEntry: ".",
          frontBundleEntry: `./inst${i}.json`,
          allowRegister: i % 2,
        });
        await put(path.join(dir, `inst${i}.json`), { authConfig: { appId: `wx${String(i).padStart(16, "0")}`, appSecret: `secret-${i}` } });
      })(),
    );
    if (writes.length >= 200) await Promise.all(writes.splice(0));
  }
  await Promise.all(writes);
}
