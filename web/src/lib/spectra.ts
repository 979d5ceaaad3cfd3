// Spectra: normalisation, plot traces and axis labels, and reading an upload's header.
import type { Layout, Trace } from "plotly.js-basic-dist-min";
import type { Spectrum } from "../api";
import { formatUtc } from "./format";

/** What the plot needs of a spectrum (the API's SpectrumJson has all of it). */
export type SpectrumLike = Pick<
  Spectrum,
  "id" | "wavelengths" | "fluxes" | "units" | "observed_at" | "instrument_name" | "label" | "type"
>;

const finite = (value: unknown): value is number =>
  typeof value === "number" && Number.isFinite(value);

export function median(values: number[]): number | undefined {
  const sorted = values.filter(finite).sort((a, b) => a - b);
  if (sorted.length === 0) return undefined;
  const middle = Math.floor(sorted.length / 2);
  return sorted.length % 2 ? sorted[middle] : (sorted[middle - 1] + sorted[middle]) / 2;
}

/**
 * Fluxes divided by their median (SkyPortal's normalisation), so that spectra of different
 * brightness or units overlay. A spectrum whose median is not positive (a sky-subtracted one
 * around zero) is divided by its largest |flux| instead; non-finite fluxes stay gaps (null).
 */
export function normalise(fluxes: (number | null)[]): (number | null)[] {
  const values = fluxes.filter(finite);
  let scale = median(values);
  if (scale === undefined || !(scale > 0)) {
    scale = values.reduce((largest, value) => Math.max(largest, Math.abs(value)), 0);
  }
  if (!(scale > 0)) return fluxes.map((value) => (finite(value) ? value : null));
  const divisor = scale;
  return fluxes.map((value) => (finite(value) ? value / divisor : null));
}

// Units as letters only ("erg s^-1 cm^-2 Å^-1" and "erg/s/cm2/A" both read "ergscmå"/"ergscma").
const PER_SECOND_PER_CM2 = "(?:(?:s|sec)cm|cm(?:s|sec))";
const F_LAMBDA = new RegExp(`^erg${PER_SECOND_PER_CM2}(?:a|å|aa|ang|angstrom)$`);
const F_NU_CGS = new RegExp(`^erg${PER_SECOND_PER_CM2}hz$`);
const JANSKY: Record<string, string> = { jy: "Jy", mjy: "mJy", ujy: "µJy", µjy: "µJy", μjy: "µJy" };

/** A plot label for the API's free-text `units` of a spectrum. */
export function fluxUnitLabel(units: string | null | undefined): string {
  const text = (units ?? "").trim();
  if (!text) return "flux (arbitrary units)";
  const key = text.toLowerCase().replace(/[^\p{L}]/gu, "");
  if (F_LAMBDA.test(key) || key === "flam") return "F_λ (erg s⁻¹ cm⁻² Å⁻¹)";
  if (F_NU_CGS.test(key) || key === "fnu") return "F_ν (erg s⁻¹ cm⁻² Hz⁻¹)";
  if (key in JANSKY) return `F_ν (${JANSKY[key]})`;
  return `flux (${text})`;
}

/** The y-axis title: normalised, the spectra's one unit, or "mixed units". */
export function fluxAxisLabel(spectra: SpectrumLike[], normalised: boolean): string {
  if (normalised) return "normalised flux";
  const labels = new Set(spectra.map((spectrum) => fluxUnitLabel(spectrum.units)));
  return labels.size === 1 ? [...labels][0] : "flux (mixed units: normalise to compare)";
}

/** "SEDM 2024-01-02 03:04:05 UTC (label)": how a spectrum is named in legends and lists. */
export function spectrumName(spectrum: SpectrumLike): string {
  const when = formatUtc(spectrum.observed_at).replace(" UTC", "");
  const label = spectrum.label ? ` (${spectrum.label})` : "";
  return `${spectrum.instrument_name ?? "instrument?"} ${when}${label}`;
}

const PALETTE = [
  "#1f77b4",
  "#d62728",
  "#2b9a3b",
  "#9467bd",
  "#ff7f0e",
  "#17becf",
  "#8c564b",
  "#e377c2",
];

export const spectrumColour = (index: number): string => PALETTE[index % PALETTE.length];

/** One line trace per spectrum, flux against wavelength (normalised when asked). */
export function spectrumTraces(spectra: SpectrumLike[], normalised: boolean): Trace[] {
  return spectra.map((spectrum, index) => {
    const fluxes = (spectrum.fluxes ?? []).map((value) => (finite(value) ? value : null));
    const y = normalised ? normalise(fluxes) : fluxes;
    const unit = normalised
      ? ""
      : ` ${fluxUnitLabel(spectrum.units).replace(/^.*\((.*)\)$/, "$1")}`;
    return {
      type: "scatter",
      mode: "lines",
      name: spectrumName(spectrum),
      x: spectrum.wavelengths ?? [],
      y,
      line: { color: spectrumColour(index), width: 1.2 },
      hovertemplate: `${spectrumName(spectrum)}<br>λ %{x:.1f} Å<br>%{y:.4g}${unit}<extra></extra>`,
    };
  });
}

export function spectrumLayout(yTitle: string): Layout {
  return {
    autosize: true,
    height: 360,
    margin: { l: 64, r: 12, t: 8, b: 40 },
    xaxis: { title: { text: "wavelength (Å)" }, zeroline: false, automargin: true },
    // automargin: tick labels like 3×10⁻¹⁶ are wide, and the title must not cover them.
    yaxis: { title: { text: yTitle }, exponentformat: "power", zeroline: false, automargin: true },
    legend: { orientation: "h", y: -0.2 },
    showlegend: true,
    paper_bgcolor: "rgba(0,0,0,0)",
    plot_bgcolor: "rgba(0,0,0,0)",
  };
}

/** [min, max] of the finite wavelengths, undefined when there are none. */
export function wavelengthRange(
  wavelengths: (number | null)[] | undefined,
): [number, number] | undefined {
  const values = (wavelengths ?? []).filter(finite);
  if (values.length === 0) return undefined;
  return [Math.min(...values), Math.max(...values)];
}

const MJD_UNIX_EPOCH = 40587;
const DATE_KEYS = [
  "date-obs",
  "date_obs",
  "dateobs",
  "obsdate",
  "date-beg",
  "utc-obs",
  "observed_at",
];
const MJD_KEYS = ["mjd-obs", "mjd_obs", "mjd"];

/** The parser keeps a header card's comment beside its value: {value, comment}. */
const cardValue = (value: unknown): unknown =>
  value && typeof value === "object" && "value" in value
    ? (value as { value: unknown }).value
    : value;

/**
 * The observation time a spectrum file's header gives (DATE-OBS, or MJD-OBS), as the value of a
 * datetime-local input ("YYYY-MM-DDTHH:MM:SS", UTC); undefined when it gives none.
 */
export function observedAtFromHeader(
  altdata: Record<string, unknown> | null | undefined,
): string | undefined {
  if (!altdata) return undefined;
  const byKey = new Map(
    Object.entries(altdata).map(([key, value]) => [key.toLowerCase(), cardValue(value)]),
  );
  for (const key of DATE_KEYS) {
    const value = byKey.get(key);
    if (typeof value !== "string") continue;
    const text = value.trim();
    // A bare date (DATE-OBS = '2024-01-02') is midnight; a time with a zone is converted to UTC.
    const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/.test(text);
    const date = new Date(
      /^\d{4}-\d\d-\d\d$/.test(text) ? `${text}T00:00:00Z` : hasZone ? text : `${text}Z`,
    );
    if (!Number.isNaN(date.getTime())) return date.toISOString().slice(0, 19);
  }
  for (const key of MJD_KEYS) {
    const raw = byKey.get(key);
    const mjd = typeof raw === "string" ? Number(raw) : raw;
    if (finite(mjd) && mjd > 0) {
      return new Date((mjd - MJD_UNIX_EPOCH) * 86_400_000).toISOString().slice(0, 19);
    }
  }
  return undefined;
}
