// Light-curve logic: detections and limits, magnitudes and fluxes, binning, export.
import type { Photometry } from "../api";

/** AB zero point of fluxes in microjansky: m = -2.5 log10(f / µJy) + 23.9. */
export const UJY_ZERO_POINT = 23.9;
const LN10_OVER_2_5 = Math.LN10 / 2.5;

export type Point = {
  mjd: number;
  filter: string;
  instrument: string;
  origin: string;
  /** AB magnitude of a detection; undefined for a limit. */
  mag?: number;
  magerr?: number;
  /** 5σ limiting magnitude (a non-detection's upper limit, or a detection's depth). */
  limit?: number;
  /** Flux and its error in µJy (detections). */
  flux?: number;
  fluxerr?: number;
  /** How many measurements a binned point stands for. */
  count: number;
};

export const magToFlux = (mag: number): number => 10 ** (-0.4 * (mag - UJY_ZERO_POINT));
export const fluxToMag = (flux: number): number => -2.5 * Math.log10(flux) + UJY_ZERO_POINT;
/** σ_f = f · σ_m · ln(10) / 2.5 */
export const magErrToFluxErr = (flux: number, magerr: number): number =>
  flux * magerr * LN10_OVER_2_5;
export const fluxErrToMagErr = (flux: number, fluxerr: number): number =>
  fluxerr / (flux * LN10_OVER_2_5);

const finite = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

/** The API's rows as points; a row without a magnitude but with a limit is a non-detection. */
export function toPoints(rows: Photometry[]): Point[] {
  const points: Point[] = [];
  for (const row of rows) {
    if (!finite(row.mjd)) continue;
    const base = {
      mjd: row.mjd,
      filter: row.filter ?? "unknown",
      instrument: row.instrument_name ?? "",
      origin: row.origin ?? "",
      limit: finite(row.limiting_mag) ? row.limiting_mag : undefined,
      count: 1,
    };
    if (finite(row.mag)) {
      const magerr = finite(row.magerr) ? row.magerr : undefined;
      const flux = magToFlux(row.mag);
      points.push({
        ...base,
        mag: row.mag,
        magerr,
        flux,
        fluxerr: magerr === undefined ? undefined : magErrToFluxErr(flux, magerr),
      });
    } else if (base.limit !== undefined) {
      points.push(base);
    }
  }
  return points.sort((a, b) => a.mjd - b.mjd);
}

export const isDetection = (point: Point): boolean => point.mag !== undefined;

/** Points grouped by filter, in first-seen order of the filters. */
export function byFilter(points: Point[]): Map<string, Point[]> {
  const groups = new Map<string, Point[]>();
  for (const point of points) {
    const list = groups.get(point.filter) ?? [];
    list.push(point);
    groups.set(point.filter, list);
  }
  return groups;
}

/**
 * Bins the detections of each filter in windows of `days` (from each filter's first point): an
 * inverse-variance weighted mean flux (plain mean where errors are missing) at the mean MJD.
 * Limits are kept as they are: a limit does not average with a detection.
 */
export function binPoints(points: Point[], days: number): Point[] {
  if (!(days > 0)) return points;
  const binned: Point[] = [];
  for (const [, group] of byFilter(points)) {
    const detections = group.filter(isDetection);
    binned.push(...group.filter((point) => !isDetection(point)));
    if (detections.length === 0) continue;
    const start = detections[0].mjd;
    const bins = new Map<number, Point[]>();
    for (const point of detections) {
      const index = Math.floor((point.mjd - start) / days);
      bins.set(index, [...(bins.get(index) ?? []), point]);
    }
    for (const members of bins.values()) binned.push(combine(members));
  }
  return binned.sort((a, b) => a.mjd - b.mjd);
}

function combine(members: Point[]): Point {
  if (members.length === 1) return members[0];
  const weighted = members.every((p) => finite(p.fluxerr) && (p.fluxerr as number) > 0);
  const weights = members.map((p) => (weighted ? 1 / (p.fluxerr as number) ** 2 : 1));
  const total = weights.reduce((sum, w) => sum + w, 0);
  const flux = members.reduce((sum, p, i) => sum + (p.flux as number) * weights[i], 0) / total;
  const mjd = members.reduce((sum, p) => sum + p.mjd, 0) / members.length;
  const fluxerr = weighted
    ? Math.sqrt(1 / total)
    : standardError(
        members.map((p) => p.flux as number),
        flux,
      );
  const first = members[0];
  const limits = members.map((p) => p.limit).filter(finite);
  return {
    mjd,
    filter: first.filter,
    instrument: first.instrument,
    origin: first.origin,
    flux,
    fluxerr,
    mag: flux > 0 ? fluxToMag(flux) : undefined,
    magerr: flux > 0 ? fluxErrToMagErr(flux, fluxerr) : undefined,
    limit: limits.length ? Math.max(...limits) : undefined,
    count: members.reduce((sum, p) => sum + p.count, 0),
  };
}

function standardError(values: number[], mean: number): number {
  if (values.length < 2) return 0;
  const variance = values.reduce((sum, v) => sum + (v - mean) ** 2, 0) / (values.length - 1);
  return Math.sqrt(variance / values.length);
}

/** Plot colours of the surveys' filters (ZTF g/r/i, WINTER Y/J/H, LSST ugrizy). */
const FILTER_COLOURS: Record<string, string> = {
  ztfg: "#2b9a3b",
  ztfr: "#d62728",
  ztfi: "#ff9f1c",
  sdssu: "#6a3d9a",
  sdssg: "#2b9a3b",
  sdssr: "#d62728",
  sdssi: "#ff9f1c",
  sdssz: "#8c564b",
  lsstu: "#6a3d9a",
  lsstg: "#2b9a3b",
  lsstr: "#d62728",
  lssti: "#ff9f1c",
  lsstz: "#8c564b",
  lssty: "#7f7f7f",
  "2massj": "#1f77b4",
  "2massh": "#17becf",
  "2massks": "#393b79",
  ps1y: "#7f7f7f",
};
const FALLBACK_COLOURS = ["#1f77b4", "#9467bd", "#e377c2", "#bcbd22", "#17becf", "#8c564b"];

export function filterColour(filter: string, index = 0): string {
  return FILTER_COLOURS[filter.toLowerCase()] ?? FALLBACK_COLOURS[index % FALLBACK_COLOURS.length];
}

/** CSV of the points (one row per point), for export. */
export function toCsv(points: Point[]): string {
  const header = "mjd,filter,mag,magerr,limiting_mag,flux_ujy,fluxerr_ujy,instrument,origin";
  const cell = (value: number | undefined, digits: number) =>
    value === undefined ? "" : value.toFixed(digits);
  const rows = points.map((p) =>
    [
      cell(p.mjd, 6),
      p.filter,
      cell(p.mag, 4),
      cell(p.magerr, 4),
      cell(p.limit, 4),
      cell(p.flux, 4),
      cell(p.fluxerr, 4),
      csvText(p.instrument),
      csvText(p.origin),
    ].join(","),
  );
  return [header, ...rows].join("\n") + "\n";
}

const csvText = (text: string): string =>
  /[",\n]/.test(text) ? `"${text.replaceAll('"', '""')}"` : text;
