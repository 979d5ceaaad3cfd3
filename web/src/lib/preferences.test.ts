import { describe, expect, it } from "vitest";
import { checkNumber, NUMBER_PREFERENCES, preferencesPatch, readNumber } from "./preferences";

const [recent, topCount, topDays] = NUMBER_PREFERENCES;

describe("preferences", () => {
  it("reads stored values and falls back to SkyPortal's defaults", () => {
    expect(readNumber({ recentSources: { maxNumSources: 4 } }, recent)).toBe(4);
    expect(readNumber({}, recent)).toBe(10);
    expect(readNumber({ recentSources: { maxNumSources: "x" } }, recent)).toBe(10);
    expect(readNumber(undefined, topDays)).toBe(7);
  });

  it("checks typed values", () => {
    expect(checkNumber("12", recent)).toBeUndefined();
    expect(checkNumber("0", recent)).toBe("Recently saved: sources shown: from 1 to 100.");
    expect(checkNumber("2.5", recent)).toMatch(/whole number/);
    expect(checkNumber("", recent)).toMatch(/whole number/);
  });

  it("patches only the sections touched, merging keys of one section", () => {
    const patch = preferencesPatch(
      new Map([
        [topCount, 5],
        [topDays, 30],
      ]),
    );
    expect(patch).toEqual({ topSources: { maxNumSources: 5, sinceDaysAgo: 30 } });
  });
});
