import type { createClient, createWxShim } from "../miniprogram/index.ts";

/**
 * The types of what the console's shell hands a family's browser tabs (FamilyConsole): its
 * DOM helpers, the admin API client, the mini-program client library and the message line.
 * A family's tabs take the kit as an argument, so they bundle without importing the runtime.
 * The shell's implementation is runtime/http/console/ui/kit.ts.
 */

type Child = Node | string | number | null | undefined | false;
type Attrs = Record<string, string | number | boolean | ((event: Event) => void) | undefined>;

export interface ConsoleUiKit {
  /** Builds an element (no innerHTML: nothing the server sends is parsed as markup). */
  h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs, ...children: (Child | Child[])[]): HTMLElementTagNameMap[K];
  replace(target: Element, ...children: (Child | Child[])[]): void;
  json(value: unknown): HTMLPreElement;
  /** UTC, to the second. */
  time(ms: number): string;
  /** A call to the console's API with the admin token. */
  admin<T>(method: "GET" | "POST" | "DELETE", url: string, body?: unknown): Promise<T>;
  createClient: typeof createClient;
  createWxShim: typeof createWxShim;
  /** The console's message line. */
  say(text: string, error?: boolean): void;
}

/** One tab of the console: `open` fills `root`; `overview` is GET /console/api/overview. */
export interface ConsoleTab {
  id: string;
  label: string;
  open(root: HTMLElement, overview: Record<string, unknown> & { appId: string }): void | Promise<void>;
}

/** What a family's browser module (`console/ui/index.ts` beside its Meta) default-exports. */
export type ConsoleTabs = (kit: ConsoleUiKit) => ConsoleTab[];
