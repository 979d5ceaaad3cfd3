import { describe, expect, it } from "vitest";
import { JsonSyntaxError, parseJsonLossless, parseJsonNode, prettyJson } from "./jsonText";

function syntaxError(text: string): JsonSyntaxError {
  try {
    parseJsonNode(text);
  } catch (error) {
    if (error instanceof JsonSyntaxError) return error;
    throw error;
  }
  throw new Error(`parsed: ${text}`);
}

describe("parseJsonLossless", () => {
  it("reads what JSON.parse reads", () => {
    const text = '{"a": [1, -2.5e3, "x\\n\\u00e9", true, false, null], "b": {}}';
    expect(parseJsonLossless(text)).toEqual(JSON.parse(text));
  });

  it("keeps 64-bit integers exact, as text", () => {
    expect(parseJsonLossless('{"_id": 1127174604415015005, "n": 36, "f": 1.5e300}')).toEqual({
      _id: "1127174604415015005",
      n: 36,
      f: 1.5e300,
    });
  });
});

describe("syntax errors", () => {
  it("gives the line and column", () => {
    const error = syntaxError('[\n  {"$match": {"a": 1}}\n  {"$project": {}}\n]');
    expect([error.line, error.column]).toEqual([3, 3]);
    expect(error.message).toBe(
      "Line 3, column 3: Expected ',' or ']' after an item of the list, found '{'.",
    );
  });

  it("explains the usual mistakes", () => {
    expect(syntaxError('[{"a": 1,}]').reason).toMatch(/Trailing comma before '}'/);
    expect(syntaxError("[1, 2,]").reason).toMatch(/Trailing comma before '\]'/);
    expect(syntaxError("[{'a': 1}]").reason).toMatch(/double quotes/);
    expect(syntaxError("[{$match: {}}]").reason).toBe(
      'Property names must be in double quotes: "$match".',
    );
    expect(syntaxError('{"a": True}').reason).toBe("'True' is not JSON: write true.");
    expect(syntaxError('{"a": None}').reason).toBe("'None' is not JSON: write null.");
    expect(syntaxError('{"a" 1}').reason).toBe("Expected ':' after the property name \"a\".");
    expect(syntaxError("[1] // x").reason).toBe("Comments are not allowed in JSON.");
    expect(syntaxError("[01]").reason).toMatch(/leading zeros/);
    expect(syntaxError('["a\\q"]').reason).toMatch(/Invalid escape/);
    expect(syntaxError("").reason).toMatch(/empty/);
    expect(syntaxError("[1] 2").reason).toMatch(/after the end/);
  });

  it("names the bracket left open at the end", () => {
    const error = syntaxError('[\n  {"$match": {"a": 1}}\n');
    expect(error.reason).toBe(
      "The text ends before the '[' opened at line 1, column 1 is closed with ']'.",
    );
    expect(syntaxError('["abc').reason).toMatch(
      /string opened at line 1, column 2 is never closed/,
    );
  });
});

describe("prettyJson", () => {
  it("indents, keeps small containers on one line and keys in their order", () => {
    const stored =
      '[{"$match": {"candidate.drb": {"$gt": 0.5}, "candidate.magpsf": {"$lt": 19.5}}}, {"$sort": {"b": 1, "a": -1}}]';
    expect(prettyJson(stored, 60)).toBe(
      [
        "[",
        "  {",
        '    "$match": {',
        '      "candidate.drb": {"$gt": 0.5},',
        '      "candidate.magpsf": {"$lt": 19.5}',
        "    }",
        "  },",
        '  {"$sort": {"b": 1, "a": -1}}',
        "]",
      ].join("\n"),
    );
  });

  it("keeps numbers as written and returns text it cannot parse as is", () => {
    expect(prettyJson('[{"$match": {"candid": 1127174604415015005}}]')).toBe(
      '[{"$match": {"candid": 1127174604415015005}}]',
    );
    expect(prettyJson("[1,")).toBe("[1,");
  });
});
