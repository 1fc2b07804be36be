/**
 * Searches captured output for secrets in the forms a leak takes: raw, URL-encoded, base64,
 * base64url and hex. base64 of a secret inside a longer value depends on where it starts,
 * so each of the three alignments is searched (the characters that also carry neighbouring
 * bytes are left out).
 */
export interface Sentinel {
  what: string;
  value: Buffer;
}

export interface Output {
  source: string;
  text: string;
  /** Secrets this output hands to their owner (the answer that issues a code or token). */
  issues?: readonly string[];
}

export interface Hit {
  what: string;
  encoding: string;
  source: string;
}

function base64Forms(value: Buffer, alphabet: "base64" | "base64url"): string[] {
  const forms: string[] = [];
  for (let pad = 0; pad < 3; pad++) {
    const encoded = Buffer.concat([Buffer.alloc(pad), value]).toString(alphabet).replace(/=+$/, "");
    const start = Math.ceil((pad * 4) / 3);
    const end = Math.floor((pad + value.length) / 3) * 4;
    if (end - start >= 8) forms.push(encoded.slice(start, end));
  }
  return forms;
}

export function encodingsOf(value: Buffer): Array<{ encoding: string; forms: string[] }> {
  const text = value.toString("utf8");
  const printable = Buffer.from(text, "utf8").equals(value);
  return [
    ...(printable ? [{ encoding: "raw", forms: [text] }, { encoding: "URL-encoded", forms: [encodeURIComponent(text)] }] : []),
    { encoding: "base64", forms: base64Forms(value, "base64") },
    { encoding: "base64url", forms: base64Forms(value, "base64url") },
    { encoding: "hex", forms: [value.toString("hex")] },
  ];
}

export function findSentinels(sentinels: readonly Sentinel[], outputs: readonly Output[]): { hits: Hit[]; searches: number } {
  const hits: Hit[] = [];
  let searches = 0;
  for (const sentinel of sentinels) {
    const asText = sentinel.value.toString("utf8");
    for (const { encoding, forms } of encodingsOf(sentinel.value)) {
      for (const output of outputs) {
        if (output.issues?.includes(asText)) continue;
        searches++;
        const haystack = encoding === "hex" ? output.text.toLowerCase() : output.text;
        if (forms.some((form) => haystack.includes(form))) hits.push({ what: sentinel.what, encoding, source: output.source });
      }
    }
  }
  return { hits, searches };
}
