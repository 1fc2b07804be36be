import { memoizeSuccess } from "../memo.ts";
import path from "node:path";
import type { Clock } from "../clock.ts";
import type { ElementClass } from "../element/ElementBase.ts";
import type { AppContext, ElementDefine, ElementTypes } from "../element/types.ts";
import { ElementError, StoreError } from "../errors/index.ts";
import type { Families } from "../family/load.ts";
import { secretKeyTest } from "../family/secrets.ts";
import type { Logger } from "../logging/logger.ts";
import { hasScheme, resolveDatabase } from "../database/location.ts";
import { databaseLabel } from "../database/open.ts";
import type { SqliteWriter } from "../database/sqlite/open.ts";
import type { AppStore } from "../database/stores.ts";
import type { Database } from "../database/types.ts";
import { defineOf, maskSecrets } from "../registry/define.ts";
import type { Def } from "../registry/model.ts";
import { nearestNames } from "./suggest.ts";

export interface AppInit {
  appId: string;
  root: string;
  title: string;
  /** The lookup order: the app, its `extends` in C3 order, then "platform". */
  layers: string[];
  clock: Clock;
  logger: Logger;
  env: Readonly<Record<string, string | undefined>>;
  visible: Map<string, Def>;
  /** What the element families the app sees bring: error codes, secrets, hooks. */
  families: Families;
  /** What loading found questionable but not wrong (rival overrides), one line each. */
  warnings?: string[];
  dbFile?: string;
  sqliteWriter?: SqliteWriter;
  store?: AppStore;
  /** The app's default database element (app.json `defaultDatabase`); default DEFAULT_DATABASE. */
  defaultDatabase?: string;
}

/** The database element every app gets without declaring it (elements/databases/default). */
export const DEFAULT_DATABASE = "databases.default";
/** The Meta every database element descends from. */
const DATABASE_META = "databases.Meta";

/**
 * A loaded app: the resolved elements one appId sees. Runtime state lives in #private
 * fields so element code cannot reach or collide with it (ARCHITECTURE.md, "Element folders").
 */
export class App implements AppContext {
  readonly appId: string;
  readonly root: string;
  readonly title: string;
  readonly dataDir: string;
  readonly layers: readonly string[];
  readonly clock: Clock;
  readonly env: Readonly<Record<string, string | undefined>>;
  readonly families: Families;
  readonly #isSecretKey: (key: string) => boolean;
  /** The database element the app keeps its data in by default (getDatabase() without a name). */
  readonly defaultDatabase: string;
  /** Loading's warnings (rival overrides), one printable line each; `jit validate`, `dev` and `serve` print them. */
  readonly warnings: readonly string[];
  /** fullName → instance (once created) or the class of a Meta/Type: the getElement hot path. */
  readonly #cache = new Map<string, unknown>();
  readonly #visible: Map<string, Def>;
  readonly #dbFile: string | undefined;
  readonly #sqliteWriter: SqliteWriter | undefined;
  readonly #injectedStore: AppStore | undefined;
  #logger: Logger;
  #store: Promise<AppStore> | undefined;
  /** Database handles by element fullName, each opened once. */
  #databases = new Map<string, Promise<Database>>();
  #masterKey = memoizeSuccess(() =>
    import("../security/masterKey.ts").then(({ loadMasterKey }) => loadMasterKey({ env: this.env, dataDir: this.dataDir, logger: this.logger })),
  );
  #closed = false;
  /**
   * Shared by every version of this app once one adopted another: the newest, which owns and
   * closes the store and databases. A replaced version reaches them through it, not through a
   * chain of its successors, so one old version kept alive keeps none of the later ones alive.
   */
  #lineage: { current: App } | undefined;
  #replaced = false;

  constructor(init: AppInit) {
    this.appId = init.appId;
    this.root = init.root;
    this.title = init.title;
    this.dataDir = path.join(init.root, ".jit");
    this.layers = Object.freeze([...init.layers]);
    this.clock = init.clock;
    this.#logger = init.logger;
    this.env = init.env;
    this.warnings = Object.freeze([...(init.warnings ?? [])]);
    this.#visible = init.visible;
    this.families = init.families;
    this.#isSecretKey = secretKeyTest(init.families.secrets);
    this.#dbFile = init.dbFile;
    this.#sqliteWriter = init.sqliteWriter;
    this.#injectedStore = init.store;
    this.defaultDatabase = init.defaultDatabase ?? DEFAULT_DATABASE;
    for (const [name, def] of init.visible) {
      if (def.kind !== "instance" && def.cls) this.#cache.set(name, def.cls);
    }
  }

  get logger(): Logger {
    return this.#logger;
  }

  /**
   * Routes the app's log lines (its elements', the master key's) to another logger from now
   * on: `jit serve` hands over its asynchronous, request-aware server logger, so element
   * lines do not cost a synchronous stderr write on the request path.
   */
  useLogger(logger: Logger): void {
    this.#logger = logger;
  }

  /** Synchronous, exact match. Instances are created on first use and cached per App. */
  getElement<K extends keyof ElementTypes>(fullName: K): ElementTypes[K];
  getElement<T = unknown>(fullName: string): T;
  getElement(fullName: string): unknown {
    const hit = this.#cache.get(fullName);
    if (hit !== undefined) return hit;
    return this.#instantiate(fullName);
  }

  #instantiate(fullName: string): unknown {
    const def = this.#find(fullName);
    const Cls = def.cls as ElementClass;
    const element = new Cls({ app: this, define: defineOf(def) });
    this.#cache.set(fullName, element);
    return element;
  }

  #find(fullName: string): Def {
    const def = this.#visible.get(fullName);
    if (def) return def;
    const near = nearestNames(fullName, this.#visible.keys(), 3);
    throw new ElementError("ELEMENT_NOT_FOUND", { fullName, suggestion: near.length ? ` (did you mean ${near.join(", ")}?)` : "" });
  }

  getElementDefine(fullName: string): ElementDefine {
    return defineOf(this.#find(fullName));
  }

  /** Instances whose chain includes the element `type` (a Meta or Type fullName). */
  findElements(query: { type: string }): ElementDefine[] {
    const out: ElementDefine[] = [];
    for (const def of this.#visible.values()) {
      if (def.kind !== "instance") continue;
      for (let link = def.next; link; link = link.next) {
        if (link.fullName === query.type) {
          out.push(defineOf(def));
          break;
        }
      }
    }
    return out.sort((a, b) => (a.fullName < b.fullName ? -1 : 1));
  }

  /** Every element this app sees, sorted by fullName. */
  listElements(): ElementDefine[] {
    return [...this.#visible.keys()].sort().map((name) => defineOf(this.#visible.get(name)!));
  }

  /** The effective config with secrets replaced by "******" (for display). */
  getMaskedConfig(fullName: string): Record<string, unknown> {
    const def = this.#find(fullName);
    const schemas: unknown[] = [];
    for (let link: Def | undefined = def; link; link = link.next) {
      if (link.raw.configSchema?.value !== undefined) schemas.push(link.raw.configSchema.value);
    }
    return maskSecrets(def.config ?? {}, schemas, this.#isSecretKey) as Record<string, unknown>;
  }

  /** The SQLite file this app uses (or will open), or null when a store was injected or the database is a server. */
  get dbFile(): string | null {
    if (this.#injectedStore) return null;
    const location = this.#location();
    return hasScheme(location) ? null : location;
  }

  /** The database as messages name it: the SQLite file or `host:port/database` (never a URL); null when a store was injected. */
  get database(): string | null {
    if (this.#injectedStore) return null;
    return databaseLabel(this.#location());
  }

  // One rule for every command (database/location.ts): --db, else JIT_DATABASE_URL, else a
  // non-empty JIT_DB, else DATABASE_URL, else <root>/.jit/<appId>.sqlite with the appId made
  // safe as a file name.
  #location(): string {
    return resolveDatabase({ dbFile: this.#dbFile, env: this.env, root: this.root, appId: this.appId, declared: this.#declared(this.defaultDatabase) });
  }

  /**
   * Where a database element says its database is: its config's `url`, or its `file` relative
   * to the app root; null when it says neither (the default database then takes
   * `<root>/.jit/<appId>.sqlite`) or when the implicit default is not loaded (a platform
   * layer without elements/databases). A named element that is not a database is refused.
   */
  #declared(fullName: string): string | null {
    const def = this.#visible.get(fullName);
    if (!def && fullName === DEFAULT_DATABASE) return null;
    const found = this.#find(fullName);
    let isDatabase = false;
    for (let link: Def | undefined = found; link; link = link.next) if (link.fullName === DATABASE_META) isDatabase = true;
    if (!isDatabase || found.kind !== "instance") {
      throw new ElementError("ARGUMENT_INVALID", { argument: "fullName", function: "getDatabase", reason: `${fullName} is not a database element (an instance of a ${DATABASE_META} Type)` });
    }
    const config = found.config ?? {};
    if (typeof config.url === "string" && config.url !== "") return config.url;
    if (typeof config.file === "string" && config.file !== "") return path.resolve(this.root, config.file);
    return null;
  }

  /** Another database element's location: its own declaration, else a file of its own under .jit/. */
  #locationOf(fullName: string): string {
    if (fullName === this.defaultDatabase) return this.#location();
    const safe = (name: string) => name.replace(/[\\/:]/g, "_");
    return this.#declared(fullName) ?? path.resolve(this.root, ".jit", `${safe(this.appId)}.${safe(fullName.split(".").pop()!)}.sqlite`);
  }

  /**
   * The app's default database handle (runtime/database/types.ts), opened once. A failed open
   * is not cached: a database file fixed on disk, or a directory made writable, is picked up
   * by the next call.
   */
  getDatabase(fullName: string = this.defaultDatabase): Promise<Database> {
    // A request still inside a replaced version uses the databases the newest version holds.
    if (this.#replaced) return this.#lineage!.current.getDatabase(fullName);
    if (this.#closed) return Promise.reject(new StoreError("STORE_CLOSED", { file: fullName === this.defaultDatabase ? (this.database ?? fullName) : fullName }));
    let handle = this.#databases.get(fullName);
    if (!handle) {
      const opening = this.#openDatabase(fullName);
      this.#databases.set(fullName, opening);
      opening.catch(() => {
        if (this.#databases.get(fullName) === opening) this.#databases.delete(fullName);
      });
      handle = opening;
    }
    return handle;
  }

  async #openDatabase(fullName: string): Promise<Database> {
    const { openDatabase } = await import("../database/open.ts");
    const location = this.#locationOf(fullName);
    return openDatabase(location, {
      ...(this.#sqliteWriter ? { sqliteWriter: this.#sqliteWriter } : {}),
      ownFolder: path.dirname(location) === this.dataDir,
      logger: this.logger,
      // Read at the time: jit serve hands the app its server logger after the database is open.
      onIdleError: (info) => this.logger.warn({ code: "STORE_UNAVAILABLE", ...info }, "a pooled database connection broke while idle; the pool replaces it"),
    });
  }

  /**
   * The store the loaded element family keeps on the default database (runtime/database/stores.ts),
   * opened once; the family migrates its tables at that moment. A failed open is not cached.
   */
  getStore(): Promise<AppStore> {
    if (this.#replaced) return this.#lineage!.current.getStore();
    // After close(), nothing would close a store opened now.
    if (!this.#store && this.#closed && !this.#injectedStore) return Promise.reject(new StoreError("STORE_CLOSED", { file: this.database! }));
    if (!this.#store) {
      const opening = this.#openStore();
      this.#store = opening;
      opening.catch(() => {
        if (this.#store === opening) this.#store = undefined;
      });
    }
    return this.#store;
  }

  async #openStore(): Promise<AppStore> {
    if (this.#injectedStore) return this.#injectedStore;
    const { openProvidedStore } = await import("../database/stores.ts");
    return openProvidedStore(await this.getDatabase());
  }

  /**
   * The vault's master key, loaded once. A failure is not cached: a malformed key file fixed
   * on disk is picked up by the next call instead of failing every later login. serveApp
   * awaits it at start-up so a bad key stops `jit serve` and the demo there.
   */
  getMasterKey(): Promise<Buffer> {
    if (this.#replaced) return this.#lineage!.current.getMasterKey();
    return this.#masterKey();
  }

  /**
   * Takes over the databases, store and master key of `previous`, an earlier version of this
   * app (a reload in `jit dev`): the same open handles, not reopened, so sessions and data stay
   * and no second connection or writer thread is started. Requests still inside `previous`
   * keep working on them; closing `previous` no longer closes them, closing this app does.
   */
  adopt(previous: App): void {
    if (previous === this || previous.appId !== this.appId) throw new TypeError(`an app adopts an earlier version of itself only (${previous.appId} → ${this.appId})`);
    if (previous.#replaced || previous.#closed) throw new TypeError(`app ${previous.appId}: this version was already replaced or closed`);
    this.#store = previous.#store;
    this.#databases = previous.#databases;
    this.#masterKey = previous.#masterKey;
    previous.#store = undefined;
    previous.#databases = new Map();
    const lineage = previous.#lineage ?? { current: previous };
    lineage.current = this;
    this.#lineage = lineage;
    previous.#lineage = lineage;
    previous.#replaced = true;
  }

  /**
   * Start-up work of the app's families before a server answers (FamilyDefinition.prepare:
   * a family's tables brought up to date, say), in family order. A failure stops the start.
   * `context`: what the hooks see as the app, this one unless given (a reload in `jit dev`
   * hands a view of the new version on the serving version's databases, runtime/dev/prepareStep.ts).
   */
  async prepare(context: AppContext = this): Promise<void> {
    for (const family of this.families.list) await family.definition.prepare?.(context);
  }

  /** Closes the store and the database the app opened itself (an injected store belongs to its owner). Idempotent. */
  async close(): Promise<void> {
    if (this.#closed) return;
    this.#closed = true;
    if (this.#replaced) return; // the store and databases belong to the newest version now
    if (this.#store && !this.#injectedStore) {
      const store = await this.#store.catch(() => undefined);
      await store?.close();
    }
    for (const opening of [...this.#databases.values()]) {
      const database = await opening.catch(() => undefined);
      await database?.close();
    }
  }
}
