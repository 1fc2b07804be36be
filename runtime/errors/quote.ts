/**
 * The one way client-supplied text enters a message or a log line: control characters (and
 * the invisible ones that reorder or hide text) escaped as JSON escapes them (\u00XX), and the
 * whole cut to about 100 characters with an ellipsis marking the cut. A client then cannot
 * make an answer or a log line large, nor forge a line break or a terminal sequence in it.
 */

/** Longest quoted client value, in characters, before the ellipsis. */
export const QUOTE_MAX = 100;

// C0 and C1 controls, DEL, line/paragraph separators, bidi and zero-width format characters.
const UNSAFE = /[\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;
const ESCAPED = /[\\"\u0000-\u001f\u007f-\u009f\u061c\u200b-\u200f\u2028-\u202e\u2060-\u2069\ufeff]/g;

const hex = (ch: string) => `\\u${ch.charCodeAt(0).toString(16).padStart(4, "0")}`;

/** Escapes unsafe characters only (for values the server made, which have no length to fear). */
export function escapeControls(text: string): string {
  return text.replace(UNSAFE, hex);
}

/**
 * Client input made safe to quote: `\`, `"` and unsafe characters escaped, at most `max`
 * characters of the result kept (never half an escape or half a surrogate pair), then "…".
 */
export function quoteInput(value: unknown, max = QUOTE_MAX): string {
  const text = String(value);
  // Only the head can be shown: escaping 4 × max characters is always enough.
  const head = text.length > max * 4 ? text.slice(0, max * 4) : text;
  const escaped = head.replace(ESCAPED, (ch) => (ch === "\\" ? "\\\\" : ch === '"' ? '\\"' : hex(ch)));
  if (escaped.length <= max && head.length === text.length) return escaped;
  let end = 0;
  for (const piece of escaped.matchAll(/\\u[0-9a-f]{4}|\\.|[\ud800-\udbff][\udc00-\udfff]|[^]/g)) {
    if (end + piece[0].length > max) break;
    end += piece[0].length;
  }
  return `${escaped.slice(0, end)}…`;
}
