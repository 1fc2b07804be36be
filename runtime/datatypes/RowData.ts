/**
 * A database row as JitAi scripts see it: each field is an object with `.value`
 * (`user.userId.value`), while JSON.stringify(row) gives the plain record `{ userId, ... }`.
 */
export type Field<V> = { readonly value: V };
export type RowData<T extends Record<string, unknown>> = { readonly [K in keyof T]: Field<T[K]> } & {
  toJSON(): T;
};

export function rowData<T extends Record<string, unknown>>(record: T): RowData<T> {
  const plain = Object.freeze({ ...record });
  const row: Record<string, unknown> = {};
  for (const [key, value] of Object.entries(plain)) {
    row[key] = Object.freeze({ value, toJSON: () => value });
  }
  Object.defineProperty(row, "toJSON", { value: () => ({ ...plain }), enumerable: false });
  return Object.freeze(row) as RowData<T>;
}

export function isRowData(value: unknown): value is RowData<Record<string, unknown>> {
  return typeof value === "object" && value !== null && typeof (value as { toJSON?: unknown }).toJSON === "function" && Object.isFrozen(value);
}
