// JSON with exact 64-bit integers. ZTF candids (e.g. 1127107111615015007) are above 2^53:
// JSON.parse would round them. Integers too long for a double come back as bigint.

// A bigint travels as a string with this mark; JSON writes its NUL as the escape below.
const MARK = "\u0000int:";
const MARK_IN_JSON = "\\u0000int:";

/** Parses JSON text; integers beyond Number.MAX_SAFE_INTEGER become bigint. */
export function parseExact(text: string): unknown {
  let out = "";
  let start = 0;
  let inString = false;
  for (let i = 0; i < text.length; i++) {
    const char = text[i];
    if (inString) {
      if (char === "\\") i++;
      else if (char === '"') inString = false;
      continue;
    }
    if (char === '"') {
      inString = true;
      continue;
    }
    if (char === "-" || (char >= "0" && char <= "9")) {
      let end = i + 1;
      while (end < text.length && /[0-9eE.+-]/.test(text[end])) end++;
      const token = text.slice(i, end);
      if (/^-?\d+$/.test(token) && !Number.isSafeInteger(Number(token))) {
        out += text.slice(start, i) + `"${MARK_IN_JSON}${token}"`;
        start = end;
      }
      i = end - 1;
    }
  }
  out += text.slice(start);
  return JSON.parse(out, (_key, value) =>
    typeof value === "string" && value.startsWith(MARK) ? BigInt(value.slice(MARK.length)) : value,
  );
}

/** Writes JSON; bigint values are written as plain integers. */
export function stringifyExact(value: unknown): string {
  const marked = JSON.stringify(value, (_key, v) => (typeof v === "bigint" ? `${MARK}${v}` : v));
  return marked.replace(/"\\u0000int:(-?\d+)"/g, "$1");
}
