import fs from "node:fs/promises";
import os from "node:os";
import path from "node:path";
import { openSqliteStore, type SqliteStore, type SqliteWriter } from "../../elements/auths/storage/sqlite/index.ts";

/** A fresh temp folder and a function that removes it. */
export async function storeTempDir(prefix = "jit-store-"): Promise<{ dir: string; remove(): Promise<void> }> {
  const dir = await fs.mkdtemp(path.join(os.tmpdir(), prefix));
  return { dir, remove: () => fs.rm(dir, { recursive: true, force: true }) };
}

/** A SqliteStore on a real file in its own temp folder; cleanup closes it and removes the folder. */
export async function tempSqliteStore(writer: SqliteWriter = "inline"): Promise<{ store: SqliteStore; file: string; dir: string; cleanup(): Promise<void> }> {
  const tmp = await storeTempDir();
  const file = path.join(tmp.dir, "data", "app.sqlite");
  const store = await openSqliteStore({ file, writer });
  return {
    store,
    file,
    dir: tmp.dir,
    cleanup: async () => {
      await store.close();
      await tmp.remove();
    },
  };
}
