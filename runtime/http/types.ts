import type { AppContext, ElementDefine } from "../element/types.ts";
import type { Families } from "../family/load.ts";
import type { Logger } from "../logging/logger.ts";

/**
 * What the server needs of a loaded app (runtime/index.ts `loadApp` returns more).
 * `listElements` may return defines or fullNames; both are accepted.
 */
export type ServedApp = Pick<AppContext, "appId" | "getElement" | "getElementDefine" | "getStore" | "close"> &
  Partial<Pick<AppContext, "clock" | "findElements">> & {
    listElements?: (...args: never[]) => ReadonlyArray<ElementDefine | string>;
    /** What the app's families bring (session lookup, limits, codes, secrets); none when absent. */
    families?: Families;
    /** When present, the server hands the app its own logger (see App.useLogger). */
    useLogger?: (logger: Logger) => void;
  };

/** The caller behind a valid session token. */
export interface Caller {
  userId: number;
  corpId: string | null;
  token: string;
}

/** An app's state as `jit dev` reports it: the problems that keep its last good version serving. */
export interface AppStatus {
  problems: ReadonlyArray<{ code: string; message: string; file?: string; pointer?: string }>;
  /** When the problems were found (epoch ms). */
  since?: number;
}
