// plotly.js traces of a light curve: detections with error bars, limits as open triangles.
import type { Layout, Trace } from "plotly.js-basic-dist-min";
import { byFilter, filterColour, isDetection, magToFlux, type Point } from "./photometry";

export type Space = "mag" | "flux";

export function lightCurveTraces(points: Point[], space: Space): Trace[] {
  const traces: Trace[] = [];
  let index = 0;
  for (const [filter, group] of byFilter(points)) {
    const colour = filterColour(filter, index++);
    const detections = group.filter(isDetection);
    const limits = group.filter((point) => !isDetection(point) && point.limit !== undefined);
    if (detections.length) {
      traces.push({
        type: "scatter",
        mode: "markers",
        name: filter,
        legendgroup: filter,
        x: detections.map((p) => p.mjd),
        y: detections.map((p) => (space === "mag" ? p.mag : p.flux) as number),
        error_y: {
          type: "data",
          array: detections.map((p) => (space === "mag" ? p.magerr : p.fluxerr) ?? 0),
          visible: true,
          color: colour,
          thickness: 1,
        },
        marker: { color: colour, size: 8, symbol: "circle" },
        customdata: detections.map((p) => p.count),
        hovertemplate:
          `${filter}<br>MJD %{x:.5f}<br>` +
          (space === "mag" ? "%{y:.3f} mag" : "%{y:.2f} µJy") +
          "<br>%{customdata} point(s)<extra></extra>",
      });
    }
    if (limits.length) {
      traces.push({
        type: "scatter",
        mode: "markers",
        name: `${filter} limit`,
        legendgroup: filter,
        x: limits.map((p) => p.mjd),
        y: limits.map((p) =>
          space === "mag" ? (p.limit as number) : magToFlux(p.limit as number),
        ),
        marker: { color: colour, size: 8, symbol: "triangle-down-open", line: { width: 1.5 } },
        hovertemplate:
          `${filter} limit<br>MJD %{x:.5f}<br>` +
          (space === "mag" ? "> %{y:.2f} mag" : "< %{y:.2f} µJy") +
          "<extra></extra>",
      });
    }
  }
  return traces;
}

export function lightCurveLayout(space: Space, compact = false): Layout {
  return {
    autosize: true,
    height: compact ? 220 : 360,
    margin: { l: 52, r: 12, t: 8, b: 40 },
    // Plain MJDs: no SI suffix ("58.85k"), no thousands separator, decimals only when needed.
    xaxis: { title: { text: "MJD" }, zeroline: false, tickformat: ".5~f" },
    // Magnitudes grow fainter upwards on the page's down: the axis is reversed.
    yaxis:
      space === "mag"
        ? { title: { text: "AB mag" }, autorange: "reversed", zeroline: false }
        : { title: { text: "flux (µJy)" }, zeroline: true },
    legend: { orientation: "h", y: compact ? -0.35 : -0.2 },
    showlegend: !compact,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
  };
}
