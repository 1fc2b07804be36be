import { promises as fs } from "node:fs";

/**
 * Files that hold identities, hashes or sealed keys are the owner's only: folders 0700, files
 * 0600. Missing ones are created so; existing ones that are looser are tightened, never
 * refused (a data folder made by an older version must keep working), and the caller logs
 * what was tightened. POSIX modes only: on Windows nothing is checked.
 */

export const PRIVATE_DIR_MODE = 0o700;
export const PRIVATE_FILE_MODE = 0o600;

const POSIX = process.platform !== "win32";

/** Clears the bits `mode` does not allow; false when nothing was to clear or the file is not ours to change. */
async function tighten(file: string, mode: number): Promise<boolean> {
  if (!POSIX) return false;
  const stat = await fs.stat(file);
  if ((stat.mode & 0o777 & ~mode) === 0) return false;
  try {
    await fs.chmod(file, stat.mode & mode);
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code === "EPERM") return false; // another user's file
    throw err;
  }
  return true;
}

/**
 * Creates `dir` (and missing parents) with mode 0700. An existing `dir` is tightened only when
 * `own` (the app's own data folder): a folder the user chose, such as /tmp, is left alone.
 * Returns the paths tightened.
 */
export async function ensurePrivateDir(dir: string, options: { own: boolean }): Promise<string[]> {
  const created = await fs.mkdir(dir, { recursive: true, mode: PRIVATE_DIR_MODE });
  if (created !== undefined || !options.own) return [];
  return (await tighten(dir, PRIVATE_DIR_MODE)) ? [dir] : [];
}

/**
 * Makes `file` exist with mode 0600, created empty when missing (SQLite takes an empty file as
 * a new database, and creates its -wal and -shm files with the database file's mode), and
 * tightens it and each existing `companions` file that is looser. Returns the paths tightened.
 */
export async function ensurePrivateFile(file: string, companions: readonly string[] = []): Promise<string[]> {
  try {
    // "wx": only a file created here gets the mode; an existing one is never opened for this.
    await (await fs.open(file, "wx", PRIVATE_FILE_MODE)).close();
  } catch (err) {
    if ((err as NodeJS.ErrnoException).code !== "EEXIST") throw err;
  }
  const tightened: string[] = [];
  for (const path of [file, ...companions]) {
    try {
      if (await tighten(path, PRIVATE_FILE_MODE)) tightened.push(path);
    } catch (err) {
      if ((err as NodeJS.ErrnoException).code !== "ENOENT") throw err;
    }
  }
  return tightened;
}
