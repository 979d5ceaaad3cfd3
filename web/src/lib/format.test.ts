import { describe, expect, it } from "vitest";
import {
  dateToMjd,
  formatDec,
  formatNumber,
  formatRa,
  formatUtc,
  formatValue,
  hoursBefore,
  mjdToDate,
  timeAgo,
} from "./format";

describe("coordinates", () => {
  it("writes right ascension in hours", () => {
    expect(formatRa(0)).toBe("00:00:00.00");
    expect(formatRa(15)).toBe("01:00:00.00");
    // M31: 10.684708 deg = 00h42m44.33s
    expect(formatRa(10.684708)).toBe("00:42:44.33");
    expect(formatRa(359.9999999)).toBe("00:00:00.00");
    expect(formatRa(-15)).toBe("23:00:00.00");
  });

  it("carries rounded seconds into minutes", () => {
    // 0.999999 h is 59 min 59.9964 s: rounds to the next hour
    expect(formatRa(14.999985)).toBe("01:00:00.00");
  });

  it("writes declination with its sign", () => {
    expect(formatDec(41.26917)).toBe("+41:16:09.0");
    expect(formatDec(-0.5)).toBe("-00:30:00.0");
    expect(formatDec(-89.99999)).toBe("-90:00:00.0");
    expect(formatDec(0)).toBe("+00:00:00.0");
  });
});

describe("times", () => {
  it("converts MJD both ways", () => {
    expect(mjdToDate(40587).toISOString()).toBe("1970-01-01T00:00:00.000Z");
    expect(mjdToDate(60000.5).toISOString()).toBe("2023-02-25T12:00:00.000Z");
    expect(dateToMjd(new Date("2023-02-25T12:00:00Z"))).toBeCloseTo(60000.5, 9);
  });

  it("reads the API's naive timestamps as UTC", () => {
    expect(formatUtc("2021-03-09T10:11:12.123")).toBe("2021-03-09 10:11:12 UTC");
    expect(formatUtc("2021-03-09T10:11:12+02:00")).toBe("2021-03-09 08:11:12 UTC");
    expect(formatUtc(undefined)).toBe("—");
  });

  it("says how long ago", () => {
    const now = new Date("2026-01-02T00:00:00Z");
    expect(timeAgo("2026-01-01T21:00:00", now)).toBe("3 h ago");
    expect(timeAgo("2025-12-30T00:00:00Z", now)).toBe("3 d ago");
    expect(timeAgo("2026-01-01T23:59:30Z", now)).toBe("just now");
    expect(timeAgo("2026-01-04T01:00:00Z", now)).toBe("in 2 d");
  });

  it("writes the start of a window for the API", () => {
    expect(hoursBefore(24, new Date("2026-01-02T05:06:07.890Z"))).toBe("2026-01-01T05:06:07");
  });
});

describe("numbers", () => {
  it("rounds and keeps integers", () => {
    expect(formatNumber(0.123456)).toBe("0.123");
    expect(formatNumber(42)).toBe("42");
    expect(formatNumber(1.5e-5)).toBe("1.500e-5");
    expect(formatNumber(undefined)).toBe("—");
    expect(formatNumber(Number.NaN)).toBe("NaN");
  });

  it("shows any annotation value", () => {
    expect(formatValue(0.98765)).toBe("0.988");
    expect(formatValue("Gaia")).toBe("Gaia");
    expect(formatValue({ a: 1 })).toBe('{"a":1}');
    expect(formatValue(null)).toBe("—");
  });
});
