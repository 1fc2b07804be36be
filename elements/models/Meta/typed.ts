/**
 * The types `jit types` gives a model: its row (what comes back) and its input (what
 * `create` takes) are generated from the declared fields; these wrap them in the model's
 * methods, so a wrong field name or value type in `create`, a filter or an orderList is a
 * compile error.
 */

/** Operators of a structured filter on a field whose values are `V`. */
export interface FieldCondition<V> {
  "="?: V | null;
  "!="?: V | null;
  ">"?: V;
  ">="?: V;
  "<"?: V;
  "<="?: V;
  in?: V[];
  like?: V extends string ? string : never;
  isnull?: boolean;
}

/** `{ userId: 3, qty: { ">=": 2 } }`: each field equal to a value, or meeting its conditions. */
export type ModelFilter<Row> = { [K in keyof Row]?: Row[K] | FieldCondition<NonNullable<Row[K]>> };

export interface ModelQuery<Row> {
  filter?: ModelFilter<Row>;
  orderList?: Array<[keyof Row & string, 1 | -1]>;
  /** From 1. */
  page?: number;
  /** 1 to 1000; default 20. */
  size?: number;
}

export interface TypedModel<Row, Input, PK extends keyof Row = keyof Row> {
  readonly fullName: string;
  create(row: Input): Promise<Row>;
  get(filter?: ModelFilter<Row>): Promise<Row | null>;
  query(args?: ModelQuery<Row>): Promise<{ rowDatas: Row[]; totalCount: number }>;
  count(filter?: ModelFilter<Row>): Promise<number>;
  updateByPK(pk: NonNullable<Row[PK]>, patch: Partial<Input>): Promise<Row>;
  deleteByPK(pk: NonNullable<Row[PK]>): Promise<{ deleted: 0 | 1 }>;
  transaction<T>(work: () => Promise<T>): Promise<T>;
}
