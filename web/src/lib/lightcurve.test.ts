import { describe, expect, it } from "vitest";
import type { Photometry } from "../api";
import { lightCurveLayout, lightCurveTraces } from "./lightcurve";
import { magToFlux, toPoints } from "./photometry";

const rows = [
  { mjd: 1, filter: "ztfg", mag: 18, magerr: 0.1, limiting_mag: 20 },
  { mjd: 2, filter: "ztfg", limiting_mag: 20.5 },
  { mjd: 3, filter: "ztfr", mag: 17.5, magerr: 0.05 },
  { mjd: 4, filter: "ztfr", mag: 17.4, magerr: 0.05 },
] as Photometry[];

describe("lightCurveTraces", () => {
  it("draws every point once: detections filled, limits as open triangles", () => {
    const traces = lightCurveTraces(toPoints(rows), "mag");
    expect(traces.map((t) => t.name)).toEqual(["ztfg", "ztfg limit", "ztfr"]);
    const plotted = traces.reduce((sum, t) => sum + (t.x?.length ?? 0), 0);
    expect(plotted).toBe(rows.length);
    expect((traces[1].marker as { symbol: string }).symbol).toBe("triangle-down-open");
    expect(traces[0].y).toEqual([18]);
    expect(traces[1].y).toEqual([20.5]);
  });

  it("plots fluxes in µJy, limits as flux upper limits", () => {
    const traces = lightCurveTraces(toPoints(rows), "flux");
    expect(traces[0].y?.[0]).toBeCloseTo(magToFlux(18), 9);
    expect(traces[1].y?.[0]).toBeCloseTo(magToFlux(20.5), 9);
  });

  it("reverses the magnitude axis only", () => {
    expect((lightCurveLayout("mag").yaxis as { autorange?: string }).autorange).toBe("reversed");
    expect((lightCurveLayout("flux").yaxis as { autorange?: string }).autorange).toBeUndefined();
  });
});
