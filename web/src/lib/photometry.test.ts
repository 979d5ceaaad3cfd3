import { describe, expect, it } from "vitest";
import type { Photometry } from "../api";
import {
  binPoints,
  byFilter,
  filterColour,
  fluxToMag,
  magErrToFluxErr,
  magToFlux,
  toCsv,
  toPoints,
  type Point,
} from "./photometry";

const row = (mjd: number, filter: string, mag?: number, magerr?: number, limit?: number) =>
  ({ mjd, filter, mag, magerr, limiting_mag: limit, instrument_name: "ZTF" }) as Photometry;

describe("magnitudes and fluxes", () => {
  it("uses the AB zero point of microjansky", () => {
    expect(magToFlux(23.9)).toBeCloseTo(1, 12);
    expect(magToFlux(16.4)).toBeCloseTo(1000, 9); // 3631 Jy * 10^(-0.4*16.4)
    expect(fluxToMag(magToFlux(18.123))).toBeCloseTo(18.123, 12);
  });

  it("propagates a magnitude error to flux", () => {
    // σ_f/f = 0.4 ln 10 σ_m ≈ 0.0921 for 0.1 mag
    expect(magErrToFluxErr(100, 0.1)).toBeCloseTo(9.2103, 4);
  });
});

describe("toPoints", () => {
  it("keeps detections and limits apart, by time", () => {
    const points = toPoints([
      row(59002, "ztfr", 18.5, 0.1, 20.4),
      row(59001, "ztfg", undefined, undefined, 20.1),
      row(59003, "ztfg", 18.0, 0.05, 20.5),
      row(59004, "ztfr"), // neither: nothing to plot
    ]);
    expect(points.map((p) => p.mjd)).toEqual([59001, 59002, 59003]);
    expect(points[0].mag).toBeUndefined();
    expect(points[0].limit).toBe(20.1);
    expect(points[1].flux).toBeCloseTo(magToFlux(18.5), 9);
    expect([...byFilter(points).keys()]).toEqual(["ztfg", "ztfr"]);
  });
});

describe("binPoints", () => {
  const detection = (mjd: number, flux: number, fluxerr: number, filter = "ztfg"): Point => ({
    mjd,
    filter,
    instrument: "ZTF",
    origin: "",
    flux,
    fluxerr,
    mag: fluxToMag(flux),
    magerr: 0.1,
    count: 1,
  });

  it("averages by inverse variance within a window, per filter", () => {
    const points = [
      detection(100.1, 10, 1),
      detection(100.4, 20, 2),
      detection(102.2, 30, 1),
      detection(100.2, 50, 5, "ztfr"),
    ];
    const binned = binPoints(points, 1);
    expect(binned).toHaveLength(3);
    const first = binned.find((p) => p.filter === "ztfg" && p.count === 2) as Point;
    // weights 1 and 1/4: (10 + 20/4) / 1.25 = 12
    expect(first.flux).toBeCloseTo(12, 12);
    expect(first.fluxerr).toBeCloseTo(Math.sqrt(1 / 1.25), 12);
    expect(first.mjd).toBeCloseTo(100.25, 12);
    expect(first.mag).toBeCloseTo(fluxToMag(12), 12);
  });

  it("leaves limits alone and is the identity without a window", () => {
    const limit: Point = {
      mjd: 100.3,
      filter: "ztfg",
      instrument: "",
      origin: "",
      limit: 20,
      count: 1,
    };
    const points = [detection(100.1, 10, 1), limit];
    expect(binPoints(points, 0)).toBe(points);
    const binned = binPoints(points, 1);
    expect(binned).toContainEqual(limit);
    expect(binned).toHaveLength(2);
  });

  it("gives no magnitude to a negative mean flux", () => {
    const binned = binPoints([detection(1, -5, 1), detection(1.1, 1, 1)], 1);
    expect(binned[0].flux).toBeCloseTo(-2, 12);
    expect(binned[0].mag).toBeUndefined();
  });
});

describe("colours and export", () => {
  it("colours the surveys' filters and falls back for others", () => {
    expect(filterColour("ztfg")).toBe("#2b9a3b");
    expect(filterColour("ZTFR")).toBe("#d62728");
    expect(filterColour("mystery", 1)).not.toBe(filterColour("mystery", 2));
  });

  it("writes one CSV row per point, quoting text", () => {
    const csv = toCsv(toPoints([{ ...row(59000, "ztfg", 18, 0.1, 20), origin: 'a,"b"' }]));
    const lines = csv.trimEnd().split("\n");
    expect(lines).toHaveLength(2);
    expect(lines[1]).toBe(
      `59000.000000,ztfg,18.0000,0.1000,20.0000,${magToFlux(18).toFixed(4)},${magErrToFluxErr(magToFlux(18), 0.1).toFixed(4)},ZTF,"a,""b"""`,
    );
  });
});
