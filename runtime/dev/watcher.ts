import { existsSync, watch, type FSWatcher } from "node:fs";
import path from "node:path";

/**
 * Watches an app developer's folder for saved declarations, configs and code: `<root>/apps`
 * and `<root>/elements` (the root's own layer), recursively. Changes are gathered for a short
 * quiet period (an editor's save is often several writes: truncate, write, rename) and handed
 * over once, as paths relative to the root.
 */

export interface WatchOptions {
  root: string;
  /** Milliseconds without a further change before the batch is handed over (default 60). */
  quietMs?: number;
  onChange(files: string[]): void;
}

export interface Watcher {
  close(): void;
}

/** Editor leftovers and other files no load reads. */
function ignored(rel: string): boolean {
  const name = path.basename(rel);
  return (
    rel.split(path.sep).some((part) => part === "node_modules" || (part.startsWith(".") && part.length > 1)) ||
    name.endsWith("~") ||
    /\.(swp|swx|tmp|bak)$/.test(name) ||
    /^(\.#|#)/.test(name) ||
    /^\d+$/.test(name) // vim's write test file ("4913")
  );
}

export function watchRoot(options: WatchOptions): Watcher {
  const quietMs = options.quietMs ?? 60;
  const pending = new Set<string>();
  let timer: NodeJS.Timeout | undefined;
  const flush = () => {
    timer = undefined;
    const files = [...pending].sort();
    pending.clear();
    if (files.length > 0) options.onChange(files);
  };
  const watchers: FSWatcher[] = [];
  for (const folder of ["apps", "elements"]) {
    const dir = path.join(options.root, folder);
    if (!existsSync(dir)) continue;
    const watcher = watch(dir, { recursive: true }, (_event, name) => {
      if (name === null) return;
      const rel = path.join(folder, name.toString());
      if (ignored(rel)) return;
      pending.add(rel);
      if (timer) clearTimeout(timer);
      timer = setTimeout(flush, quietMs);
    });
    // A watched folder removed or unreadable: report nothing more from it rather than crash.
    watcher.on("error", () => watcher.close());
    watchers.push(watcher);
  }
  return {
    close() {
      if (timer) clearTimeout(timer);
      for (const w of watchers) w.close();
    },
  };
}

/**
 * The served apps a changed file may affect: a file under `apps/<id>/` affects every app whose
 * lookup order holds `<id>` (the app and those extending it); a file under the root's own
 * `elements/` affects every app.
 */
export function affectedApps(files: readonly string[], apps: ReadonlyArray<{ appId: string; layers: readonly string[] }>): string[] {
  const out = new Set<string>();
  for (const file of files) {
    const parts = file.split(path.sep);
    if (parts[0] === "elements") {
      for (const app of apps) out.add(app.appId);
    } else if (parts[0] === "apps" && parts[1] !== undefined) {
      for (const app of apps) if (app.layers.includes(parts[1])) out.add(app.appId);
    }
  }
  return apps.map((a) => a.appId).filter((id) => out.has(id));
}
