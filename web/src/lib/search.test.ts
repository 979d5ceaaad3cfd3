import { describe, expect, it } from "vitest";
import type { SourceEntry } from "../api";
import {
  lastSaved,
  latestClassification,
  pageRange,
  parseDec,
  parsePosition,
  parseRa,
  parseRadius,
  readSourcesState,
  sourcesQuery,
  splitPosition,
  validateSources,
  writeSourcesState,
  type Result,
} from "./search";

const value = (result: Result<number>): number => {
  if (!result.ok) throw new Error(result.error);
  return result.value;
};
const error = (result: Result<number>): string => (result.ok ? "" : result.error);

describe("parseRa", () => {
  it("reads decimal degrees and hours", () => {
    expect(value(parseRa("71.6577756"))).toBe(71.6577756);
    expect(value(parseRa(" 0 "))).toBe(0);
    expect(value(parseRa("71.5d"))).toBe(71.5);
    expect(value(parseRa("4.5h"))).toBeCloseTo(67.5, 12);
  });

  it("reads sexagesimal hours in the usual spellings", () => {
    // 04:46:37.8661 is the alert ZTF19abzrhgq's radec_str: 71.6577754°
    expect(value(parseRa("04:46:37.8661"))).toBeCloseTo(71.6577754, 6);
    expect(value(parseRa("04 46 37.8661"))).toBeCloseTo(71.6577754, 6);
    expect(value(parseRa("4h46m37.8661s"))).toBeCloseTo(71.6577754, 6);
    expect(value(parseRa("12:30"))).toBeCloseTo(187.5, 12);
  });

  it("refuses what is out of range or unreadable, saying why", () => {
    expect(error(parseRa(""))).toMatch(/Enter a right ascension/);
    expect(error(parseRa("360"))).toMatch(/below 360/);
    expect(error(parseRa("-5"))).toMatch(/cannot be negative/);
    expect(error(parseRa("24:00:00"))).toMatch(/hours must be below 24/);
    expect(error(parseRa("12:60:00"))).toMatch(/minutes must be below 60/);
    expect(error(parseRa("12:30:60"))).toMatch(/seconds must be below 60/);
    expect(error(parseRa("12:30.5:10"))).toMatch(/not a number of degrees/);
    expect(error(parseRa("abc"))).toMatch(/not a number of degrees/);
    expect(error(parseRa("25h"))).toMatch(/below 24/);
  });
});

describe("parseDec", () => {
  it("reads signed decimal and sexagesimal degrees", () => {
    expect(value(parseDec("-10.2263957"))).toBe(-10.2263957);
    expect(value(parseDec("+8.08"))).toBe(8.08);
    expect(value(parseDec("-10:13:35.025"))).toBeCloseTo(-10.2263958, 6);
    expect(value(parseDec("-10d13m35.025s"))).toBeCloseTo(-10.2263958, 6);
    expect(value(parseDec("\u221210 13 35.025"))).toBeCloseTo(-10.2263958, 6); // Unicode minus
    expect(value(parseDec("90"))).toBe(90);
  });

  it("keeps the sign of a declination between 0 and -1 degrees", () => {
    expect(value(parseDec("-00:30:00"))).toBeCloseTo(-0.5, 12);
    expect(value(parseDec("+00:30:00"))).toBeCloseTo(0.5, 12);
  });

  it("refuses declinations beyond the poles and bad parts", () => {
    expect(error(parseDec("91"))).toMatch(/between -90 and \+90/);
    expect(error(parseDec("-90.5"))).toMatch(/between -90 and \+90/);
    expect(error(parseDec("90:00:01"))).toMatch(/between -90 and \+90/);
    expect(error(parseDec("10:75:00"))).toMatch(/minutes must be below 60/);
    expect(error(parseDec(""))).toMatch(/Enter a declination/);
    expect(error(parseDec("north"))).toMatch(/not a number of degrees/);
  });
});

describe("positions", () => {
  it("splits a pasted position into RA and Dec", () => {
    expect(splitPosition("71.6578 -10.2264")).toEqual(["71.6578", "-10.2264"]);
    expect(splitPosition("71.6578, -10.2264")).toEqual(["71.6578", "-10.2264"]);
    expect(splitPosition("04:46:37.87 -10:13:35.0")).toEqual(["04:46:37.87", "-10:13:35.0"]);
    expect(splitPosition("04 46 37.87 -10 13 35.0")).toEqual(["04 46 37.87", "-10 13 35.0"]);
    expect(splitPosition("04 46 37.87 10 13 35.0")).toEqual(["04 46 37.87", "10 13 35.0"]);
    expect(splitPosition("71.6578")).toBeUndefined();
  });

  it("parses both fields, or a whole position typed into the RA field", () => {
    expect(parsePosition("", "")).toEqual({ errors: {} });
    const pasted = parsePosition("04:46:37.8661 -10:13:35.025", "");
    expect(pasted.position?.ra).toBeCloseTo(71.6577754, 6);
    expect(pasted.position?.dec).toBeCloseTo(-10.2263958, 6);
    expect(parsePosition("71.5", "8").position).toEqual({ ra: 71.5, dec: 8 });
  });

  it("names the field in error", () => {
    expect(parsePosition("71.5", "").errors.dec).toMatch(/Enter a declination/);
    expect(parsePosition("", "8").errors.ra).toMatch(/Enter a right ascension/);
    const both = parsePosition("400", "-95");
    expect(both.errors.ra).toMatch(/below 360/);
    expect(both.errors.dec).toMatch(/between -90/);
    expect(both.position).toBeUndefined();
  });
});

describe("parseRadius", () => {
  it("reads arcseconds, or arcminutes and degrees when marked", () => {
    expect(value(parseRadius("5"))).toBe(5);
    expect(value(parseRadius('2.5"'))).toBe(2.5);
    expect(value(parseRadius("1'"))).toBe(60);
    expect(value(parseRadius("0.5 deg"))).toBe(1800);
  });

  it("refuses zero, negatives, text and too large a cone", () => {
    expect(error(parseRadius("0"))).toMatch(/more than 0/);
    expect(error(parseRadius("-3"))).toMatch(/not a positive number/);
    expect(error(parseRadius("wide"))).toMatch(/not a positive number/);
    expect(error(parseRadius(""))).toMatch(/Enter a radius/);
    expect(error(parseRadius("2 deg"))).toMatch(/at most 3600″/);
  });
});

describe("sources search", () => {
  it("defaults to the newest saves, 25 a page", () => {
    const state = readSourcesState(new URLSearchParams());
    expect(state).toMatchObject({
      sortBy: "saved_at",
      sortOrder: "desc",
      page: 1,
      perPage: 25,
      groupIds: [],
    });
    expect(writeSourcesState(state).toString()).toBe("");
  });

  it("round-trips through the URL, keeping the position as typed", () => {
    const state = {
      ...readSourcesState(new URLSearchParams()),
      id: "ZTF23",
      ra: "03:08:25.97",
      dec: "+08:05:02.1",
      radius: "10",
      savedAfter: "2026-12-01",
      groupIds: [4, 1],
      sortBy: "ra",
      sortOrder: "asc" as const,
      page: 3,
      perPage: 50,
    };
    const params = writeSourcesState(state);
    expect(params.get("ra")).toBe("03:08:25.97");
    expect(readSourcesState(params)).toEqual(state);
  });

  it("ignores nonsense in the URL", () => {
    const state = readSourcesState(new URLSearchParams("page=-2&perPage=7&sortBy=drop&groups=a,4"));
    expect(state).toMatchObject({ page: 1, perPage: 25, sortBy: "saved_at", groupIds: [4] });
  });

  it("asks the API for a cone in degrees and whole UTC days", () => {
    const query = sourcesQuery({
      ...readSourcesState(new URLSearchParams()),
      id: " abjj ",
      ra: "03:08:25.97",
      dec: "+08:05:02.1",
      radius: "36",
      savedAfter: "2026-12-01",
      savedBefore: "2026-12-03",
      groupIds: [4],
    });
    expect(query.sourceID).toBe("abjj");
    expect(Number(query.ra)).toBeCloseTo(47.1082083, 6);
    expect(Number(query.dec)).toBeCloseTo(8.0839167, 6);
    expect(query.radius).toBe("0.01");
    expect(query.savedAfter).toBe("2026-12-01T00:00:00");
    expect(query.savedBefore).toBe("2026-12-03T23:59:59.999");
    expect(query.group_ids).toBe("4");
    expect(query).toMatchObject({
      pageNumber: "1",
      numPerPage: "25",
      sortBy: "saved_at",
      sortOrder: "desc",
    });
  });

  it("leaves the cone out when no position is given", () => {
    const query = sourcesQuery(readSourcesState(new URLSearchParams()));
    expect(query.ra).toBeUndefined();
    expect(query.radius).toBeUndefined();
  });

  it("validates per field", () => {
    const base = readSourcesState(new URLSearchParams());
    expect(validateSources(base)).toEqual({});
    const errors = validateSources({
      ...base,
      ra: "12:00:00",
      dec: "95",
      radius: "0",
      savedAfter: "2026-12-05",
      savedBefore: "2026-12-01",
    });
    expect(errors.dec).toMatch(/between -90/);
    expect(errors.radius).toMatch(/more than 0/);
    expect(errors.savedBefore).toMatch(/earlier than/);
    expect(errors.ra).toBeUndefined();
  });
});

describe("source rows", () => {
  const source = {
    id: "ZTF1",
    groups: [
      { id: 1, name: "A", saved_at: "2026-12-01T10:00:00", requested: false },
      { id: 2, name: "B", saved_at: "2026-12-03T10:00:00", requested: false },
      { id: 3, name: "C", saved_at: "2026-12-04T10:00:00", requested: true },
    ],
    classifications: [
      { id: 2, classification: "SN Ia", created_at: "2026-12-03T00:00:00" },
      { id: 1, classification: "AGN", created_at: "2026-12-01T00:00:00" },
    ],
  } as SourceEntry;

  it("shows the latest save (not an invitation) and the newest classification", () => {
    expect(lastSaved(source)).toBe("2026-12-03T10:00:00");
    expect(latestClassification(source)?.classification).toBe("SN Ia");
    expect(latestClassification({ id: "x" })).toBeUndefined();
  });

  it("describes the page range", () => {
    expect(pageRange(1, 25, 22)).toBe("1–22 of 22");
    expect(pageRange(2, 10, 22)).toBe("11–20 of 22");
    expect(pageRange(1, 25, 0)).toBe("0 of 0");
  });
});
