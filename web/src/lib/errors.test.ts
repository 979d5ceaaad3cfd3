import { describe, expect, it } from "vitest";
import { asError, messageOf } from "./errors";

describe("failures", () => {
  it("reads an Error's message and anything else as text", () => {
    expect(messageOf(new TypeError("bad input"))).toBe("bad input");
    expect(messageOf("plain")).toBe("plain");
    expect(messageOf(404)).toBe("404");
  });

  it("keeps an Error and wraps anything else", () => {
    const error = new Error("kept");
    expect(asError(error)).toBe(error);
    expect(asError({ toString: () => "odd" }).message).toBe("odd");
  });
});
