/**
 * `?` placeholders (the handle's one style) as PostgreSQL's `$1…$n`. A statement that
 * already numbers its parameters (`$1`) is taken as written, so one parameter may appear
 * twice. `?` inside quotes ('…', "…") or comments is left alone.
 */
export function toPostgresPlaceholders(sql: string): string {
  if (/\$\d/.test(sql) || !sql.includes("?")) return sql;
  let out = "";
  let n = 0;
  for (let i = 0; i < sql.length; i++) {
    const c = sql[i]!;
    if (c === "'" || c === '"') {
      const end = sql.indexOf(c, i + 1);
      const stop = end === -1 ? sql.length : end + 1;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === "-" && sql[i + 1] === "-") {
      const end = sql.indexOf("\n", i);
      const stop = end === -1 ? sql.length : end;
      out += sql.slice(i, stop);
      i = stop - 1;
    } else if (c === "?") {
      out += `$${++n}`;
    } else {
      out += c;
    }
  }
  return out;
}
