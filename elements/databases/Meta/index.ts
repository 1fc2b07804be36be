import { ElementBase, type Database } from "jit-runtime/element";

/**
 * The base class of database elements (databases.*). An instance names where a database
 * lives (its Type's config: a SQLite file or a PostgreSQL URL); the runtime opens one handle
 * per database element and app (runtime/database/types.ts) and closes it with the app.
 */
export class DatabaseElement extends ElementBase {
  /** The handle on this database, opened on first use (migrations are each family's: Database.migrate). */
  getDatabase(): Promise<Database> {
    return this.app.getDatabase(this.fullName);
  }
}

export default DatabaseElement;
