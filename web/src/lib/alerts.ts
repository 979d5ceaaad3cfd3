// The alert archive (Kowalski's side): its JSON read exactly, its queries, and alert documents
// as table rows, light-curve points and cross-match summaries.
import type { Photometry } from "../api";
import { parseJsonLossless } from "./jsonText";
import { parsePosition, parseRadius, type Position, type PositionErrors } from "./search";

export type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
export type Doc = { [key: string]: Json };

const isDoc = (value: Json | undefined): value is Doc =>
  typeof value === "object" && value !== null && !Array.isArray(value);

// ---- Reading the archive's JSON ----

/**
 * JSON.parse that keeps integers beyond 2^53 exact, as decimal strings: a ZTF candid
 * (1127107111615015007) would otherwise come back as 1127107111615015000 and name no alert.
 */
export function parseJsonExact(text: string): Json {
  return fromExtendedJson(parseJsonLossless(text) as Json);
}

/**
 * MongoDB Extended JSON wrappers as plain values: {$numberLong} a number when exact, else
 * its digits; {$numberDouble: "NaN"} NaN; {$date} an ISO string; {$oid} its hex; {$binary}
 * null (cutouts are never shown here).
 */
export function fromExtendedJson(value: Json): Json {
  if (Array.isArray(value)) return value.map(fromExtendedJson);
  if (!isDoc(value)) return value;
  const keys = Object.keys(value);
  if (keys.length === 1) {
    const [key] = keys;
    const inner = value[key];
    if (key === "$numberLong" && typeof inner === "string") {
      return Number.isSafeInteger(Number(inner)) ? Number(inner) : inner;
    }
    if ((key === "$numberDouble" || key === "$numberInt") && typeof inner === "string")
      return Number(inner);
    if (key === "$numberDecimal" && typeof inner === "string") return inner;
    if (key === "$oid" && typeof inner === "string") return inner;
    if (key === "$binary") return null;
    if (key === "$date") {
      if (typeof inner === "string") return inner;
      if (typeof inner === "number") return new Date(inner).toISOString();
      if (isDoc(inner)) {
        const ms = fromExtendedJson(inner);
        return typeof ms === "number" ? new Date(ms).toISOString() : String(ms);
      }
    }
  }
  const result: Doc = {};
  for (const key of keys) result[key] = fromExtendedJson(value[key]);
  return result;
}

/** The value at a dotted path ("candidate.jd"). */
export function getPath(value: Json | undefined, path: string): Json | undefined {
  let current: Json | undefined = value;
  for (const key of path.split(".")) {
    if (!isDoc(current)) return undefined;
    current = current[key];
  }
  return current;
}

export function num(value: Json | undefined, path: string): number | undefined {
  const found = getPath(value, path);
  return typeof found === "number" && Number.isFinite(found) ? found : undefined;
}

export function text(value: Json | undefined, path: string): string | undefined {
  const found = getPath(value, path);
  if (typeof found === "string") return found;
  if (typeof found === "number") return String(found);
  return undefined;
}

// ---- Surveys and catalogs ----

export type Survey = {
  /** The alerts' object-id field: ZTF's and LSST's objectId, WINTER's objectid. */
  idField: string;
  /** The alert's own measurement: ZTF's and WINTER's candidate, LSST's diaSource. */
  record: string;
  /** The field of a measurement naming its filter: fid (ZTF, WINTER) or band (LSST). */
  bandField: string;
  /** fid or band -> the portal's bandpass names (the broker's, so both pages name filters alike). */
  filters: Record<string, string>;
  instrument: string;
  /** The aux document's arrays of earlier detections and of forced photometry. */
  history: string;
  forced?: string;
  /** A forced-photometry point as magnitudes (AB): mag and magerr above 3 sigma, else none;
   * its 5-sigma limit. */
  forcedMagnitudes?: (record: Doc) => { mag?: number; magerr?: number; limit?: number } | null;
};

const FORCED_DETECTION_SNR = 3;
// 2.5 / ln 10: a relative flux error as a magnitude error.
const MAG_PER_LN = 2.5 / Math.LN10;
// Rubin's fluxes are in nJy: AB magnitude = 31.4 - 2.5 log10(flux / nJy).
const NJY_ZP = 31.4;

const SURVEYS: Record<string, Survey> = {
  ZTF: {
    idField: "objectId",
    record: "candidate",
    bandField: "fid",
    filters: { 1: "ztfg", 2: "ztfr", 3: "ztfi" },
    instrument: "ZTF",
    history: "prv_candidates",
    forced: "fp_hists",
    forcedMagnitudes: (record) => {
      // Only the pipeline's good measurements (procstatus 0) are photometry.
      if (record.procstatus !== undefined && record.procstatus !== "0" && record.procstatus !== 0)
        return null;
      const mag = num(record, "mag");
      const snr = num(record, "snr");
      const detected = mag !== undefined && snr !== undefined && snr > FORCED_DETECTION_SNR;
      return {
        mag: detected ? mag : undefined,
        magerr: detected ? num(record, "magerr") : undefined,
        limit: num(record, "limmag5sig") ?? num(record, "diffmaglim"),
      };
    },
  },
  WNTR: {
    idField: "objectid",
    record: "candidate",
    bandField: "fid",
    filters: { 1: "ps1::y", 2: "2massj", 3: "2massh" },
    instrument: "WINTER",
    history: "prv_candidates",
  },
  LSST: {
    idField: "objectId",
    record: "diaSource",
    bandField: "band",
    filters: Object.fromEntries([..."ugrizy"].map((band) => [band, `lsst${band}`])),
    instrument: "LSST",
    history: "prvDiaSources",
    forced: "prvDiaForcedSources",
    forcedMagnitudes: (record) => {
      const flux = num(record, "psfFlux");
      const error = num(record, "psfFluxErr");
      if (flux === undefined || error === undefined || error <= 0) return null;
      const detected = flux / error > FORCED_DETECTION_SNR;
      return {
        mag: detected ? NJY_ZP - 2.5 * Math.log10(flux) : undefined,
        magerr: detected ? (MAG_PER_LN * error) / flux : undefined,
        limit: NJY_ZP - 2.5 * Math.log10(5 * error),
      };
    },
  },
};

export const DEFAULT_CATALOGS = ["ZTF_alerts", "WNTR_alerts", "LSST_alerts"];

export function surveyOf(catalog: string): Survey {
  const prefix = catalog.replace(/_alerts$/, "");
  return (
    SURVEYS[prefix] ?? {
      idField: "objectId",
      record: "candidate",
      bandField: "fid",
      filters: {},
      instrument: prefix,
      history: "prv_candidates",
    }
  );
}

/** The alert collections among info/catalog_names' answer (not their _aux companions). */
export function alertCatalogs(names: Json): string[] {
  if (!Array.isArray(names)) return [];
  return names
    .filter((name): name is string => typeof name === "string" && /_alerts$/.test(name))
    .sort();
}

// ---- Queries (Kowalski's JSON requests) ----

export type ArchiveQuery = { query_type: string; query: Doc; kwargs?: Doc };

/** Cutouts (ZTF's, LSST's and WINTER's names) and history never travel with an alert list. */
const HEAVY_FIELDS: Doc = {
  cutoutScience: 0,
  cutoutTemplate: 0,
  cutoutDifference: 0,
  cutout_science: 0,
  cutout_template: 0,
  cutout_difference: 0,
  prv_candidates: 0,
  fp_hists: 0,
  prvDiaSources: 0,
  prvDiaForcedSources: 0,
  prvDiaNondetectionLimits: 0,
};

/** The alert's time, as a query's sort key. */
const jdField = (catalog: string): string => `${surveyOf(catalog).record}.jd`;

export const MAX_OBJECT_ALERTS = 1000;
export const MAX_CONE_ALERTS = 500;

export const catalogNamesQuery = (): ArchiveQuery => ({
  query_type: "info",
  query: { command: "catalog_names" },
});

/** Every alert of an object, oldest first, without cutouts. */
export function objectAlertsQuery(catalog: string, objectId: string): ArchiveQuery {
  return {
    query_type: "find",
    query: { catalog, filter: { [surveyOf(catalog).idField]: objectId }, projection: HEAVY_FIELDS },
    kwargs: { sort: [[jdField(catalog), 1]], limit: MAX_OBJECT_ALERTS },
  };
}

/** The object's aux document: history (prv_candidates, fp_hists) and cross-matches. */
export function auxQuery(catalog: string, objectId: string): ArchiveQuery {
  return {
    query_type: "find_one",
    query: { catalog: `${catalog}_aux`, filter: { _id: objectId } },
  };
}

/** Which object an alert belongs to; the candid goes as {$numberLong} to stay exact. */
export function candidQuery(catalog: string, candid: string): ArchiveQuery {
  const idField = surveyOf(catalog).idField;
  return {
    query_type: "find",
    query: {
      catalog,
      filter: { candid: { $numberLong: candid } },
      projection: { [idField]: 1, candid: 1 },
    },
    kwargs: { limit: 1 },
  };
}

/** What a list of objects shows of each alert. */
function summaryProjection(catalog: string): Doc {
  const survey = surveyOf(catalog);
  const fields = [
    "jd",
    survey.bandField,
    "magpsf",
    "sigmapsf",
    "isdiffpos",
    "ra",
    "dec",
    "programid",
  ].map((field) => `${survey.record}.${field}`);
  return Object.fromEntries([survey.idField, "candid", ...fields].map((field) => [field, 1]));
}

export const RECENT_ALERTS = 50;

/** The archive's newest alerts (the page's start, before any search). */
export function recentQuery(catalog: string): ArchiveQuery {
  return {
    query_type: "find",
    query: { catalog, filter: {}, projection: summaryProjection(catalog) },
    kwargs: { sort: [[jdField(catalog), -1]], limit: RECENT_ALERTS },
  };
}

/** The alerts within a cone, newest first, with only what the summary shows. */
export function coneQuery(catalog: string, position: Position, radiusArcsec: number): ArchiveQuery {
  return {
    query_type: "cone_search",
    query: {
      object_coordinates: {
        radec: { target: [position.ra, position.dec] },
        cone_search_radius: radiusArcsec,
        cone_search_unit: "arcsec",
      },
      catalogs: {
        [catalog]: {
          filter: {},
          projection: summaryProjection(catalog),
        },
      },
    },
    kwargs: { sort: [[jdField(catalog), -1]], limit: MAX_CONE_ALERTS },
  };
}

// ---- Alerts as rows ----

export type Score = { name: string; value: number; version?: string };

export type AlertRow = {
  candid: string;
  objectId: string;
  jd?: number;
  mjd?: number;
  filter: string;
  magpsf?: number;
  sigmapsf?: number;
  diffmaglim?: number;
  /** false for a negative subtraction (the source faded below the reference). */
  positive: boolean;
  ra?: number;
  dec?: number;
  /** Galactic longitude and latitude, where the archive added them (coordinates.l, .b). */
  galLon?: number;
  galLat?: number;
  programid?: number;
  /** ZTF's own real-bogus scores (candidate.drb, candidate.rb) then the broker's ML models. */
  scores: Score[];
  candidate: Doc;
};

const JD_TO_MJD = 2400000.5;
const POSITIVE_DIFF = new Set<Json | undefined>([true, 1, "t", "T", "y", "Y", "1"]);

export function filterName(survey: Survey, band: Json | undefined): string {
  if (band === undefined || band === null) return "unknown";
  return survey.filters[String(band)] ?? `${survey.bandField} ${String(band)}`;
}

/** The portal's name of a measurement's filter, if the survey has one for it. */
const bandOf = (survey: Survey, record: Doc): string | undefined => {
  const band = record[survey.bandField];
  return typeof band === "number" || typeof band === "string"
    ? survey.filters[String(band)]
    : undefined;
};

/** The ML scores of an alert: candidate drb/rb, then every model of `classifications`. */
export function alertScores(alert: Doc): Score[] {
  const scores: Score[] = [];
  for (const name of ["drb", "rb"]) {
    const value = num(alert, `candidate.${name}`);
    if (value !== undefined)
      scores.push({ name, value, version: text(alert, `candidate.${name}version`) });
  }
  const classifications = alert.classifications;
  if (isDoc(classifications)) {
    for (const [name, value] of Object.entries(classifications)) {
      if (name.endsWith("_version") || typeof value !== "number") continue;
      scores.push({ name, value, version: text(classifications, `${name}_version`) });
    }
  }
  return scores;
}

export function alertRow(alert: Doc, catalog: string): AlertRow {
  const survey = surveyOf(catalog);
  const measured = alert[survey.record];
  const candidate = isDoc(measured) ? measured : {};
  const jd = num(candidate, "jd");
  return {
    candid: text(alert, "candid") ?? text(candidate, "candid") ?? "",
    objectId: text(alert, survey.idField) ?? "",
    jd,
    mjd: jd === undefined ? undefined : jd - JD_TO_MJD,
    filter: filterName(survey, candidate[survey.bandField]),
    magpsf: num(candidate, "magpsf"),
    sigmapsf: num(candidate, "sigmapsf"),
    diffmaglim: num(candidate, "diffmaglim"),
    positive: candidate.isdiffpos === undefined || POSITIVE_DIFF.has(candidate.isdiffpos),
    ra: num(candidate, "ra"),
    dec: num(candidate, "dec"),
    galLon: num(alert, "coordinates.l"),
    galLat: num(alert, "coordinates.b"),
    programid: num(candidate, "programid"),
    scores: alertScores(alert),
    candidate,
  };
}

/** The score columns of a table of alerts: drb, rb, braai, then the rest alphabetically. */
export function scoreColumns(rows: AlertRow[]): string[] {
  const names = new Set(rows.flatMap((row) => row.scores.map((score) => score.name)));
  const first = ["drb", "rb", "braai"].filter((name) => names.has(name));
  const rest = [...names].filter((name) => !first.includes(name)).sort();
  return [...first, ...rest];
}

/**
 * An alert field as text, at the precision it carries: integers and ids whole, JDs to 1e-7 d
 * (about 10 ms), other numbers to 6 significant digits (the alerts' floats are 32-bit).
 */
export function formatAlertValue(value: Json | undefined): string {
  if (value === null || value === undefined) return "—";
  if (typeof value === "number") {
    if (!Number.isFinite(value)) return String(value);
    if (Number.isInteger(value)) return String(value);
    if (Math.abs(value) >= 1e5) return String(Number(value.toFixed(7)));
    return String(Number(value.toPrecision(6)));
  }
  if (typeof value === "string") return value;
  if (typeof value === "boolean") return value ? "true" : "false";
  return JSON.stringify(value);
}

/** Julian date -> ISO 8601 UTC (JD 2440587.5 is the Unix epoch). */
export const jdToIso = (jd: number): string =>
  new Date((jd - 2440587.5) * 86_400_000).toISOString().slice(0, 19);

// ---- Light curve: alerts and their history in the portal's Photometry shape ----

/**
 * The object's alert candidates, then its aux prv_candidates (and, if asked, forced
 * photometry) as Photometry rows for components/LightCurve. Duplicates (same jd, filter and
 * magpsf; the alerts' own copy first) count once, as in the broker; a non-detection needs a
 * positive diffmaglim; a detection does not (WINTER's history rows have none: the broker, which
 * posts fluxes with errors, drops them, but they are detections worth plotting here); a negative
 * subtraction is plotted as its limit, as the portal's magnitudes give no magnitude to a
 * negative flux; forced photometry counts as a detection above 3σ, else as its 5σ limit.
 */
export function historyPhotometry(
  alerts: Doc[],
  aux: Doc | null | undefined,
  catalog: string,
  { forced = false }: { forced?: boolean } = {},
): Photometry[] {
  const survey = surveyOf(catalog);
  const rows: Photometry[] = [];
  const seen = new Set<string>();
  const detections = [
    ...alerts.map((alert) => [alert[survey.record], "alert"] as const),
    ...asDocs(aux?.[survey.history]).map((row) => [row, "alert history"] as const),
  ];
  for (const [record, origin] of detections) {
    if (!isDoc(record)) continue;
    const jd = num(record, "jd");
    const filter = bandOf(survey, record);
    const limit = num(record, "diffmaglim");
    if (jd === undefined || filter === undefined) continue;
    const magpsf = num(record, "magpsf");
    const key = `${jd}|${filter}|${magpsf ?? ""}`;
    if (seen.has(key)) continue;
    seen.add(key);
    const positive = record.isdiffpos === undefined || POSITIVE_DIFF.has(record.isdiffpos);
    const detected = magpsf !== undefined && positive;
    const hasLimit = limit !== undefined && limit > 0;
    if (!detected && !hasLimit) continue;
    rows.push({
      mjd: jd - JD_TO_MJD,
      filter,
      mag: detected ? magpsf : null,
      magerr: detected ? (num(record, "sigmapsf") ?? null) : null,
      limiting_mag: hasLimit ? limit : null,
      magsys: "ab",
      instrument_name: survey.instrument,
      origin,
      ra: num(record, "ra") ?? null,
      dec: num(record, "dec") ?? null,
    });
  }
  if (forced && survey.forced) rows.push(...forcedPhotometry(asDocs(aux?.[survey.forced]), survey));
  return rows.sort((a, b) => (a.mjd ?? 0) - (b.mjd ?? 0));
}

function forcedPhotometry(records: Doc[], survey: Survey): Photometry[] {
  const rows: Photometry[] = [];
  for (const record of records) {
    const jd = num(record, "jd");
    const filter = bandOf(survey, record);
    const measured = survey.forcedMagnitudes?.(record);
    if (jd === undefined || filter === undefined || !measured) continue;
    const { mag, magerr, limit } = measured;
    const detected = mag !== undefined && Number.isFinite(mag);
    if (!detected && (limit === undefined || !Number.isFinite(limit) || limit <= 0)) continue;
    rows.push({
      mjd: jd - JD_TO_MJD,
      filter,
      mag: detected ? mag : null,
      magerr: detected ? (magerr ?? null) : null,
      limiting_mag: limit ?? null,
      magsys: "ab",
      instrument_name: survey.instrument,
      origin: "forced photometry",
    });
  }
  return rows;
}

const asDocs = (value: Json | undefined): Doc[] =>
  Array.isArray(value) ? value.filter(isDoc) : [];

// ---- Positions and cones ----

/** Great-circle distance in arcsec (haversine: exact at the arcsecond scales of a cone). */
export function separationArcsec(ra1: number, dec1: number, ra2: number, dec2: number): number {
  const rad = Math.PI / 180;
  const dDec = (dec2 - dec1) * rad;
  const dRa = (ra2 - ra1) * rad;
  const h =
    Math.sin(dDec / 2) ** 2 + Math.cos(dec1 * rad) * Math.cos(dec2 * rad) * Math.sin(dRa / 2) ** 2;
  return 2 * Math.asin(Math.min(1, Math.sqrt(h))) * (180 / Math.PI) * 3600;
}

export type ConeObject = {
  objectId: string;
  alerts: number;
  /** The newest alert found in the cone. */
  latest: AlertRow;
  /** Of the newest alert's position from the cone's centre. */
  separation?: number;
};

/** A cone search's answer ({catalog: {name: [alerts]}}) as objects, nearest first. */
export function coneObjects(data: Json, catalog: string, centre: Position): ConeObject[] {
  const perName = getPath(data, catalog);
  const alerts = isDoc(perName) ? Object.values(perName).flatMap(asDocs) : [];
  return groupByObject(alerts, catalog, centre);
}

/**
 * Alerts as their objects, each with its newest alert: nearest the centre first when there is
 * one, else newest first.
 */
export function groupByObject(alerts: Json, catalog: string, centre?: Position): ConeObject[] {
  const objects = new Map<string, ConeObject>();
  for (const alert of asDocs(alerts)) {
    const row = alertRow(alert, catalog);
    const known = objects.get(row.objectId);
    if (known) {
      known.alerts++;
      if ((row.jd ?? 0) > (known.latest.jd ?? 0)) known.latest = row;
    } else {
      objects.set(row.objectId, { objectId: row.objectId, alerts: 1, latest: row });
    }
  }
  const list = [...objects.values()];
  if (!centre) return list.sort((a, b) => (b.latest.jd ?? 0) - (a.latest.jd ?? 0));
  for (const object of list) {
    const { ra, dec } = object.latest;
    if (ra !== undefined && dec !== undefined) {
      object.separation = separationArcsec(centre.ra, centre.dec, ra, dec);
    }
  }
  return list.sort((a, b) => (a.separation ?? Infinity) - (b.separation ?? Infinity));
}

// ---- Cross-matches ----

export type Match = { row: Doc; distance?: number };
export type CrossMatchSummary = { catalog: string; count: number; nearest: Match[] };

const POSITION_COLUMNS: [string, string][] = [
  ["ra", "dec"],
  ["RA", "DEC"],
  ["RA", "Dec"],
  ["objra", "objdec"],
  ["RAJ2000", "DEJ2000"],
  ["ra_deg", "dec_deg"],
];

/** A catalog row's position: its coordinates.radec_geojson (lon = ra - 180) or RA/Dec columns. */
export function rowPosition(row: Doc): Position | undefined {
  const point = getPath(row, "coordinates.radec_geojson.coordinates");
  if (Array.isArray(point) && typeof point[0] === "number" && typeof point[1] === "number") {
    return { ra: point[0] + 180, dec: point[1] };
  }
  for (const [raKey, decKey] of POSITION_COLUMNS) {
    const ra = num(row, raKey);
    const dec = num(row, decKey);
    if (ra !== undefined && dec !== undefined) return { ra, dec };
  }
  return undefined;
}

/**
 * The aux document's cross_matches ({catalog: [rows]}) per catalog: the count and the
 * `nearest` closest rows to the object, with their distance in arcsec (the archive's own
 * coordinates.distance_arcsec where it wrote one).
 */
export function crossMatchSummaries(
  crossMatches: Json | undefined,
  object: Position | undefined,
  nearest = 3,
): CrossMatchSummary[] {
  if (!isDoc(crossMatches)) return [];
  return Object.entries(crossMatches)
    .map(([catalog, rows]) => {
      const matches = asDocs(rows).map((row): Match => {
        const stored = num(row, "coordinates.distance_arcsec");
        const position = rowPosition(row);
        const distance =
          stored ??
          (position && object
            ? separationArcsec(object.ra, object.dec, position.ra, position.dec)
            : undefined);
        return { row, distance };
      });
      matches.sort((a, b) => (a.distance ?? Infinity) - (b.distance ?? Infinity));
      return { catalog, count: matches.length, nearest: matches.slice(0, nearest) };
    })
    .sort((a, b) => a.catalog.localeCompare(b.catalog));
}

/** A catalog row's first `max` plain fields (no ids of the database, coordinates or arrays). */
export function rowFields(row: Doc, max = 6): [string, Json][] {
  return Object.entries(row)
    .filter(
      ([key, value]) =>
        key !== "_id" && key !== "coordinates" && value !== null && typeof value !== "object",
    )
    .slice(0, max);
}

/** The object's position: the mean of its alerts' positions. */
export function meanPosition(rows: Pick<AlertRow, "ra" | "dec">[]): Position | undefined {
  const placed = rows.filter((row) => row.ra !== undefined && row.dec !== undefined);
  if (placed.length === 0) return undefined;
  // Averaging RA across 0h needs the unit vectors, not the numbers.
  const rad = Math.PI / 180;
  let x = 0;
  let y = 0;
  let z = 0;
  for (const row of placed) {
    const ra = (row.ra as number) * rad;
    const dec = (row.dec as number) * rad;
    x += Math.cos(dec) * Math.cos(ra);
    y += Math.cos(dec) * Math.sin(ra);
    z += Math.sin(dec);
  }
  const ra = (Math.atan2(y, x) / rad + 360) % 360;
  const dec = Math.atan2(z, Math.hypot(x, y)) / rad;
  return { ra, dec };
}

// ---- The page's search (its URL) ----

export type AlertsState = { catalog: string; id: string; ra: string; dec: string; radius: string };
export type AlertsSearch =
  | { kind: "none" }
  | { kind: "object"; catalog: string; objectId: string }
  | { kind: "candid"; catalog: string; candid: string }
  | { kind: "cone"; catalog: string; position: Position; radius: number };
export type AlertsErrors = PositionErrors & { id?: string; radius?: string; form?: string };

export const DEFAULT_CONE_RADIUS = "5";

export function readAlertsState(params: URLSearchParams): AlertsState {
  return {
    catalog: params.get("catalog") ?? DEFAULT_CATALOGS[0],
    id: params.get("id") ?? "",
    ra: params.get("ra") ?? "",
    dec: params.get("dec") ?? "",
    radius: params.get("radius") ?? DEFAULT_CONE_RADIUS,
  };
}

export function writeAlertsState(state: AlertsState): URLSearchParams {
  const params = new URLSearchParams({ catalog: state.catalog });
  if (state.id.trim()) {
    params.set("id", state.id.trim());
  } else if (state.ra.trim() || state.dec.trim()) {
    params.set("ra", state.ra.trim());
    if (state.dec.trim()) params.set("dec", state.dec.trim());
    params.set("radius", state.radius.trim());
  }
  return params;
}

const CANDID = /^\d{1,19}$/;
const OBJECT_ID = /^[A-Za-z0-9_.+-]{3,64}$/;

/** What the state asks for (an object, an alert, a cone), or its errors per field. */
export function alertsSearch(state: AlertsState): { search: AlertsSearch; errors: AlertsErrors } {
  const id = state.id.trim();
  const catalog = state.catalog;
  const coneTyped = Boolean(state.ra.trim() || state.dec.trim());
  if (id) {
    if (coneTyped) {
      return {
        search: { kind: "none" },
        errors: { form: "Search by an id or by a cone, not both: clear one." },
      };
    }
    if (CANDID.test(id))
      return {
        search: { kind: "candid", catalog, candid: id.replace(/^0+(?=\d)/, "") },
        errors: {},
      };
    if (!OBJECT_ID.test(id)) {
      return {
        search: { kind: "none" },
        errors: { id: "Not an object id (e.g. ZTF20aajcdad) or an alert's candid." },
      };
    }
    return { search: { kind: "object", catalog, objectId: id }, errors: {} };
  }
  if (!coneTyped) return { search: { kind: "none" }, errors: {} };
  const { position, errors } = parsePosition(state.ra, state.dec);
  const radius = parseRadius(state.radius);
  const all: AlertsErrors = { ...errors, radius: radius.ok ? undefined : radius.error };
  if (!position || !radius.ok) return { search: { kind: "none" }, errors: all };
  return { search: { kind: "cone", catalog, position, radius: radius.value }, errors: {} };
}
