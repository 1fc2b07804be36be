import type { AppContext, ElementDefine } from "./types.ts";

export interface ElementInit {
  app: AppContext;
  define: ElementDefine;
}

/**
 * The root of every element class. Runtime state lives in #private fields so a Type's
 * subclass cannot collide with it by accident (ARCHITECTURE.md, "Element folders").
 */
export class ElementBase {
  readonly #app: AppContext;
  readonly #define: ElementDefine;

  constructor(init: ElementInit) {
    this.#app = init.app;
    this.#define = init.define;
  }

  get app(): AppContext {
    return this.#app;
  }

  get fullName(): string {
    return this.#define.fullName;
  }

  get title(): string {
    return this.#define.title;
  }

  /** The merged declaration. */
  get define(): ElementDefine {
    return this.#define;
  }

  /** The effective configuration (deep-frozen). */
  get config(): Readonly<Record<string, unknown>> {
    return this.#define.config;
  }
}

/** The shape of a Type module's default export: `(Parent) => class extends Parent { ... }`. */
export type ElementClass = new (init: ElementInit) => ElementBase;
export type TypeFactory<P extends ElementClass = ElementClass> = (Parent: P) => ElementClass;

/** Shared by every copy of the runtime (Symbol.for is process-wide), unlike `instanceof`. */
const ELEMENT_BRAND = Symbol.for("jit-runtime.element");
Object.defineProperty(ElementBase.prototype, ELEMENT_BRAND, { value: true });

/** True for an element (or ElementBase's prototype chain) of any copy of the runtime. */
export function isElementBase(value: unknown): boolean {
  return typeof value === "object" && value !== null && (value as Record<symbol, unknown>)[ELEMENT_BRAND] === true;
}
