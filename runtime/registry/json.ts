/**
 * JSON parsing with a line/column on failure. V8's JSON.parse messages sometimes quote the
 * input (which may hold a secret) and sometimes give no position, so on failure we re-scan
 * the text ourselves to find where it breaks and describe it without echoing any of it.
 */

export type ParseResult = { ok: true; value: unknown } | { ok: false; line: number; column: number; reason: string };

export function parseJson(text: string): ParseResult {
  if (text.charCodeAt(0) === 0xfeff) text = text.slice(1);
  try {
    return { ok: true, value: JSON.parse(text) };
  } catch {
    const { offset, reason } = locateError(text);
    let line = 1;
    let lineStart = 0;
    for (let i = 0; i < offset && i < text.length; i++) {
      if (text.charCodeAt(i) === 10) {
        line++;
        lineStart = i + 1;
      }
    }
    return { ok: false, line, column: offset - lineStart + 1, reason };
  }
}

class ScanError extends Error {
  constructor(readonly offset: number, readonly reason: string) {
    super(reason);
  }
}

/** A strict JSON scanner used only after JSON.parse failed, to find the first bad offset. */
function locateError(text: string): { offset: number; reason: string } {
  let i = 0;
  const fail = (reason: string): never => {
    throw new ScanError(i, i >= text.length ? "unexpected end of input" : reason);
  };
  const ws = () => {
    while (i < text.length && " \t\n\r".includes(text[i]!)) i++;
  };
  const literal = (word: string) => {
    if (text.startsWith(word, i)) i += word.length;
    else fail(`invalid literal (expected ${word})`);
  };
  const string = () => {
    i++; // opening quote
    for (;;) {
      if (i >= text.length) fail("unterminated string");
      const ch = text.charCodeAt(i);
      if (ch === 34) {
        i++;
        return;
      }
      if (ch < 32) fail("control character in string");
      if (ch === 92) {
        i++;
        const esc = text[i];
        if (esc === "u") {
          for (let k = 1; k <= 4; k++) {
            if (!/[0-9a-fA-F]/.test(text[i + k] ?? "")) {
              i += k;
              fail("invalid \\u escape");
            }
          }
          i += 5;
          continue;
        }
        if (esc === undefined || !"\"\\/bfnrt".includes(esc)) fail("invalid escape");
      }
      i++;
    }
  };
  const number = () => {
    const m = /^-?(0|[1-9]\d*)(\.\d+)?([eE][+-]?\d+)?/.exec(text.slice(i, i + 400));
    if (!m || m[0] === "" || m[0] === "-") fail("invalid number");
    i += m![0].length;
  };
  const value = (): void => {
    ws();
    const ch = text[i];
    if (ch === "{") {
      i++;
      ws();
      if (text[i] === "}") {
        i++;
        return;
      }
      for (;;) {
        ws();
        if (text[i] !== '"') fail("expected a double-quoted property name");
        string();
        ws();
        if (text[i] !== ":") fail("expected ':' after property name");
        i++;
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "}") {
          i++;
          return;
        }
        fail("expected ',' or '}' after property value");
      }
    } else if (ch === "[") {
      i++;
      ws();
      if (text[i] === "]") {
        i++;
        return;
      }
      for (;;) {
        value();
        ws();
        if (text[i] === ",") {
          i++;
          continue;
        }
        if (text[i] === "]") {
          i++;
          return;
        }
        fail("expected ',' or ']' after array element");
      }
    } else if (ch === '"') string();
    else if (ch === "t") literal("true");
    else if (ch === "f") literal("false");
    else if (ch === "n") literal("null");
    else if (ch === "-" || (ch !== undefined && ch >= "0" && ch <= "9")) number();
    else fail("unexpected character");
  };
  try {
    value();
    ws();
    if (i < text.length) fail("unexpected content after the JSON value");
    return { offset: 0, reason: "invalid JSON" };
  } catch (err) {
    if (err instanceof ScanError) return { offset: err.offset, reason: err.reason };
    throw err;
  }
}
