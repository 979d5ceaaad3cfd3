// A JSON reader that says where and why text is not JSON, keeps the order of keys and the exact
// text of numbers (64-bit candids, which JSON.parse rounds), and prints JSON back readably.

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };

/** The parsed text, as written: keys in order, numbers as their text. */
export type JsonNode =
  | { kind: "object"; entries: [string, JsonNode][] }
  | { kind: "array"; items: JsonNode[] }
  | { kind: "string"; value: string }
  | { kind: "number"; raw: string }
  | { kind: "literal"; raw: "true" | "false" | "null" };

export class JsonSyntaxError extends SyntaxError {
  constructor(
    readonly reason: string,
    readonly line: number,
    readonly column: number,
    readonly offset: number,
  ) {
    super(`Line ${line}, column ${column}: ${reason}`);
    this.name = "JsonSyntaxError";
  }
}

const CLOSER: Record<string, string> = { "{": "}", "[": "]" };
const ESCAPES: Record<string, string> = {
  '"': '"',
  "\\": "\\",
  "/": "/",
  b: "\b",
  f: "\f",
  n: "\n",
  r: "\r",
  t: "\t",
};
// Words people type from Python or JavaScript, and what JSON spells instead.
const NOT_JSON_WORDS: Record<string, string> = {
  True: "true",
  False: "false",
  None: "null",
  undefined: "null",
  NaN: "a number or null",
  Infinity: "a number or null",
};

/** Parses JSON text into nodes; a JsonSyntaxError says where and why it is not JSON. */
export function parseJsonNode(text: string): JsonNode {
  let at = 0;
  const opened: { char: string; offset: number }[] = [];

  function fail(reason: string, offset = at): never {
    const before = text.slice(0, offset);
    const line = before.split("\n").length;
    const column = offset - before.lastIndexOf("\n");
    throw new JsonSyntaxError(reason, line, column, offset);
  }
  const where = (offset: number): string => {
    const before = text.slice(0, offset);
    return `line ${before.split("\n").length}, column ${offset - before.lastIndexOf("\n")}`;
  };
  function endOfText(): never {
    const open = opened[opened.length - 1];
    return fail(
      open
        ? `The text ends before the '${open.char}' opened at ${where(open.offset)} is closed with '${CLOSER[open.char]}'.`
        : "The text ends where a value was expected.",
    );
  }

  const skipSpace = () => {
    while (at < text.length && " \t\n\r\uFEFF".includes(text[at])) at++;
    if (text.startsWith("//", at) || text.startsWith("/*", at))
      fail("Comments are not allowed in JSON.");
  };

  const describe = (offset: number): string => {
    const char = text[offset];
    return char === undefined ? "the end of the text" : `'${char}'`;
  };

  const readString = (): string => {
    const quote = at;
    at++;
    let value = "";
    for (;;) {
      if (at >= text.length)
        fail(`The string opened at ${where(quote)} is never closed with '"'.`, quote);
      const char = text[at];
      if (char === '"') {
        at++;
        return value;
      }
      if (char === "\n") fail(`The string opened at ${where(quote)} is not closed on its line.`);
      if (char < " ") fail("Control characters (tabs included) must be escaped inside strings.");
      if (char === "\\") {
        const next = text[at + 1];
        if (next === "u") {
          const hex = text.slice(at + 2, at + 6);
          if (!/^[0-9a-fA-F]{4}$/.test(hex))
            fail("\\u must be followed by four hexadecimal digits.");
          value += String.fromCharCode(parseInt(hex, 16));
          at += 6;
          continue;
        }
        if (next === undefined || !(next in ESCAPES)) {
          fail(`Invalid escape '\\${next ?? ""}': write a backslash as '\\\\'.`);
        }
        value += ESCAPES[next];
        at += 2;
        continue;
      }
      value += char;
      at++;
    }
  };

  const readNumber = (): JsonNode => {
    const match = /^-?(?:0|[1-9]\d*)(?:\.\d+)?(?:[eE][+-]?\d+)?/.exec(text.slice(at));
    if (!match) fail(`Invalid number starting with ${describe(at)}.`);
    const raw = match[0];
    const after = text[at + raw.length];
    if (after !== undefined && /[0-9.eExX]/.test(after)) {
      fail(
        `Invalid number '${text.slice(at).match(/^[-+\w.]+/)?.[0] ?? raw}': no leading zeros, hex or trailing dots.`,
      );
    }
    at += raw.length;
    return { kind: "number", raw };
  };

  const readValue = (): JsonNode => {
    skipSpace();
    if (at >= text.length) endOfText();
    const char = text[at];
    if (char === "{") return readObject();
    if (char === "[") return readArray();
    if (char === '"') return { kind: "string", value: readString() };
    if (char === "'") fail('Strings must be in double quotes ("), not single quotes.');
    if (char === "-" || (char >= "0" && char <= "9")) return readNumber();
    const word = /^[A-Za-z_$][\w$]*/.exec(text.slice(at))?.[0];
    if (word === "true" || word === "false" || word === "null") {
      at += word.length;
      return { kind: "literal", raw: word };
    }
    if (word !== undefined && word in NOT_JSON_WORDS) {
      fail(`'${word}' is not JSON: write ${NOT_JSON_WORDS[word]}.`);
    }
    if (word !== undefined) fail(`Unexpected word '${word}': strings must be in double quotes.`);
    if (char === "}" || char === "]")
      fail(`Unexpected '${char}': a value was expected (a trailing comma?).`);
    return fail(`Unexpected ${describe(at)} where a value was expected.`);
  };

  const readObject = (): JsonNode => {
    opened.push({ char: "{", offset: at });
    at++;
    const entries: [string, JsonNode][] = [];
    skipSpace();
    if (text[at] === "}") {
      at++;
      opened.pop();
      return { kind: "object", entries };
    }
    for (;;) {
      skipSpace();
      if (at >= text.length) endOfText();
      const char = text[at];
      if (char === "}") fail("Trailing comma before '}': remove the last ','.", at);
      if (char === "'") fail('Property names must be in double quotes ("), not single quotes.');
      if (char !== '"') {
        const word = /^[^\s:,{}[\]"]+/.exec(text.slice(at))?.[0];
        fail(
          word
            ? `Property names must be in double quotes: "${word}".`
            : `Unexpected ${describe(at)}: a property name in double quotes was expected.`,
        );
      }
      const key = readString();
      skipSpace();
      if (at >= text.length) endOfText();
      if (text[at] !== ":") fail(`Expected ':' after the property name "${key}".`);
      at++;
      entries.push([key, readValue()]);
      skipSpace();
      if (at >= text.length) endOfText();
      if (text[at] === ",") {
        at++;
        continue;
      }
      if (text[at] === "}") {
        at++;
        opened.pop();
        return { kind: "object", entries };
      }
      fail(`Expected ',' or '}' after the value of "${key}", found ${describe(at)}.`);
    }
  };

  const readArray = (): JsonNode => {
    opened.push({ char: "[", offset: at });
    at++;
    const items: JsonNode[] = [];
    skipSpace();
    if (text[at] === "]") {
      at++;
      opened.pop();
      return { kind: "array", items };
    }
    for (;;) {
      skipSpace();
      if (text[at] === "]") fail("Trailing comma before ']': remove the last ','.");
      items.push(readValue());
      skipSpace();
      if (at >= text.length) endOfText();
      if (text[at] === ",") {
        at++;
        continue;
      }
      if (text[at] === "]") {
        at++;
        opened.pop();
        return { kind: "array", items };
      }
      fail(`Expected ',' or ']' after an item of the list, found ${describe(at)}.`);
    }
  };

  skipSpace();
  if (at >= text.length) fail("The text is empty: a JSON value was expected.");
  const node = readValue();
  skipSpace();
  if (at < text.length) fail(`Unexpected ${describe(at)} after the end of the JSON value.`);
  return node;
}

/** The node as a JavaScript value; integers beyond 2^53 stay exact, as strings. */
export function nodeValue(node: JsonNode): JsonValue {
  switch (node.kind) {
    case "object":
      return Object.fromEntries(node.entries.map(([key, value]) => [key, nodeValue(value)]));
    case "array":
      return node.items.map(nodeValue);
    case "string":
      return node.value;
    case "literal":
      return node.raw === "null" ? null : node.raw === "true";
    case "number": {
      const value = Number(node.raw);
      return /^-?\d+$/.test(node.raw) && !Number.isSafeInteger(value) ? node.raw : value;
    }
  }
}

/** JSON.parse that keeps 64-bit integers exact (as strings) and says where text is not JSON. */
export const parseJsonLossless = (text: string): JsonValue => nodeValue(parseJsonNode(text));

const inline = (node: JsonNode): string => {
  switch (node.kind) {
    case "object":
      return `{${node.entries.map(([key, value]) => `${JSON.stringify(key)}: ${inline(value)}`).join(", ")}}`;
    case "array":
      return `[${node.items.map(inline).join(", ")}]`;
    case "string":
      return JSON.stringify(node.value);
    case "number":
    case "literal":
      return node.raw;
  }
};

/** Prints nodes indented by two spaces; a container that fits in `width` columns stays on one
 * line, so a pipeline's small conditions ({"$gt": 0.5}) read at a glance. */
export function printJson(node: JsonNode, width = 72, indent = "", prefix = 0): string {
  const flat = inline(node);
  if (
    indent.length + prefix + flat.length <= width ||
    (node.kind !== "object" && node.kind !== "array")
  ) {
    return flat;
  }
  const inner = `${indent}  `;
  if (node.kind === "array") {
    if (node.items.length === 0) return "[]";
    return `[\n${node.items.map((item) => inner + printJson(item, width, inner)).join(",\n")}\n${indent}]`;
  }
  if (node.entries.length === 0) return "{}";
  const lines = node.entries.map(([key, value]) => {
    const name = `${JSON.stringify(key)}: `;
    return inner + name + printJson(value, width, inner, name.length);
  });
  return `{\n${lines.join(",\n")}\n${indent}}`;
}

/** JSON text re-indented, keys and numbers exactly as written; unparsable text is returned as is. */
export function prettyJson(text: string, width = 72): string {
  try {
    return printJson(parseJsonNode(text), width);
  } catch {
    return text;
  }
}
