import { describe, expect, it } from "vitest";
import { parseJsonLossless } from "./jsonText";
import type { Group, SavedGroup } from "../api";
import type { Point } from "./photometry";
import {
  bytesToBase64,
  defaultFollowupForm,
  followupPayload,
  invitableGroups,
  isOwn,
  parseProbability,
  payloadSummary,
  saveableGroups,
  sortPoints,
} from "./source";

const point = (mjd: number, filter: string, mag?: number, limit?: number): Point => ({
  mjd,
  filter,
  mag,
  limit,
  instrument: "ZTF",
  origin: "",
  count: 1,
});

describe("sortPoints", () => {
  const points = [point(3, "ztfr", 18), point(1, "ztfg", undefined, 20.5), point(2, "ztfg", 17.5)];

  it("sorts by date either way", () => {
    expect(sortPoints(points, "mjd", "asc").map((p) => p.mjd)).toEqual([1, 2, 3]);
    expect(sortPoints(points, "mjd", "desc").map((p) => p.mjd)).toEqual([3, 2, 1]);
  });

  it("puts rows without the value last and breaks ties by time", () => {
    expect(sortPoints(points, "mag", "asc").map((p) => p.mjd)).toEqual([2, 3, 1]);
    expect(sortPoints(points, "mag", "desc").map((p) => p.mjd)).toEqual([3, 2, 1]);
    expect(sortPoints(points, "filter", "asc").map((p) => p.mjd)).toEqual([1, 2, 3]);
  });

  it("leaves its input alone", () => {
    sortPoints(points, "mjd", "asc");
    expect(points.map((p) => p.mjd)).toEqual([3, 1, 2]);
  });
});

describe("group choices", () => {
  const group = (id: number, name: string, single = false): Group => ({
    id,
    name,
    single_user_group: single,
  });
  const demo = group(4, "Demo");
  const site = group(1, "Sitewide Group");
  const other = group(7, "Other");
  const mine = [demo, site];
  const all = [demo, site, other, group(2, "admin", true)];
  const saved: SavedGroup[] = [{ ...demo, active: true, requested: false }];

  it("saves to the caller's groups it is not saved to", () => {
    expect(saveableGroups(mine, all, saved, false).map((g) => g.id)).toEqual([1]);
    expect(saveableGroups(mine, all, saved, true).map((g) => g.id)).toEqual([7, 1]);
  });

  it("invites other groups, not those invited already, and none for an admin", () => {
    expect(invitableGroups(mine, all, saved, false).map((g) => g.id)).toEqual([7]);
    const invited: SavedGroup[] = [...saved, { ...other, active: false, requested: true }];
    expect(invitableGroups(mine, all, invited, false)).toEqual([]);
    expect(invitableGroups(mine, all, saved, true)).toEqual([]);
  });

  it("lets authors and system admins delete", () => {
    expect(isOwn({ id: 3, acls: [] }, 3)).toBe(true);
    expect(isOwn({ id: 3, acls: ["Comment"] }, 4)).toBe(false);
    expect(isOwn({ id: 3, acls: ["System admin"] }, 4)).toBe(true);
    expect(isOwn({ id: 3, acls: [] }, null)).toBe(false);
  });
});

describe("follow-up payloads", () => {
  const form = defaultFollowupForm(new Date("2024-05-01T12:00:00Z"));

  it("defaults to a week from today", () => {
    expect(form.startDate).toBe("2024-05-01");
    expect(form.endDate).toBe("2024-05-08");
  });

  it("builds the payload with the chosen filters", () => {
    const result = followupPayload({ ...form, filters: ["ztfg", "ztfr"], note: " ToO " }, [
      "ztfg",
      "ztfr",
      "ztfi",
    ]);
    expect(result).toEqual({
      payload: {
        start_date: "2024-05-01",
        end_date: "2024-05-08",
        priority: 1,
        exposure_time: 300,
        exposure_counts: 1,
        filters: ["ztfg", "ztfr"],
        comment: "ToO",
      },
    });
  });

  it("names each bad field", () => {
    const result = followupPayload(
      { ...form, endDate: "2024-04-01", priority: "9", exposureTime: "-1", exposureCount: "0.5" },
      ["ztfg"],
    );
    expect("errors" in result && Object.keys(result.errors).sort()).toEqual([
      "endDate",
      "exposureCount",
      "exposureTime",
      "filters",
      "priority",
    ]);
  });

  it("needs no filter for an instrument without any", () => {
    expect("payload" in followupPayload(form, [])).toBe(true);
  });

  it("summarises a payload", () => {
    expect(payloadSummary({ priority: 1, filters: ["g", "r"], x: { a: 1 } })).toBe(
      'priority: 1; filters: g, r; x: {"a":1}',
    );
    expect(payloadSummary(undefined)).toBe("");
  });
});

describe("encodings", () => {
  it("encodes bytes as base64, large ones too", () => {
    expect(bytesToBase64(new TextEncoder().encode("hello, world"))).toBe("aGVsbG8sIHdvcmxk");
    const large = new Uint8Array(100_000).fill(65);
    expect(atob(bytesToBase64(large))).toHaveLength(100_000);
  });

  it("reads integers past 2^53 exactly from JSON text", () => {
    const text =
      '{"passing_alerts": [{"passing_alert_id": 2475433850315015012, "x": 1.5}, {"passing_alert_id":7}]}';
    const exact = parseJsonLossless(text) as { passing_alerts: { passing_alert_id: unknown }[] };
    expect(exact.passing_alerts.map((pass) => pass.passing_alert_id)).toEqual([
      "2475433850315015012",
      7,
    ]);
    // What JSON.parse would have given instead:
    expect(String(JSON.parse(text).passing_alerts[0].passing_alert_id)).not.toBe(
      "2475433850315015012",
    );
  });

  it("checks a probability", () => {
    expect(parseProbability("0.8")).toBe(0.8);
    expect(parseProbability("1")).toBe(1);
    expect(typeof parseProbability("1.2")).toBe("string");
    expect(typeof parseProbability("")).toBe("string");
  });
});
