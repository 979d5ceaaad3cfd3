// Sky positions as astronomers type them, and the sources list's search (its URL and API query).
import type { operations } from "../../generated/api";
import type { Classification, SourceEntry } from "../api";

export type Result<T> = { ok: true; value: T } | { ok: false; error: string };

const ok = <T>(value: T): Result<T> => ({ ok: true, value });
const fail = <T>(error: string): Result<T> => ({ ok: false, error });

const DECIMAL = /^\d+(?:\.\d*)?$|^\.\d+$/;

/** Unicode minus and dashes, typographic primes, degree signs and commas as plain text. */
function normalise(text: string): string {
  return text
    .trim()
    .replace(/[\u2212\u2012\u2013\u2014]/g, "-")
    .replace(/[\u2032\u2019]/g, "'")
    .replace(/[\u2033\u201d]/g, '"');
}

/**
 * "12:34:56.7", "12 34 56.7", "12h34m56.7s", "12:34.5": the sexagesimal parts (2 or 3), each a
 * non-negative number, every part but the last a whole number; undefined when the text is not
 * written that way.
 */
function sexagesimalParts(text: string): number[] | undefined {
  const parts = text
    .replace(/[hdms°'"]/gi, " ")
    .replace(/:/g, " ")
    .trim()
    .split(/\s+/);
  if (parts.length < 2 || parts.length > 3 || !parts.every((part) => DECIMAL.test(part))) {
    return undefined;
  }
  if (!parts.slice(0, -1).every((part) => /^\d+$/.test(part))) return undefined;
  return parts.map(Number);
}

function checkMinutesSeconds(parts: number[], what: string): string | undefined {
  const [, minutes, seconds = 0] = parts;
  if (minutes >= 60) return `${what}: minutes must be below 60, got ${minutes}.`;
  if (seconds >= 60) return `${what}: seconds must be below 60, got ${seconds}.`;
  return undefined;
}

/**
 * Right ascension in degrees from decimal degrees ("71.6578", "71.6578d") or hours
 * ("4.7772h"), or sexagesimal hours ("04:46:37.87", "04 46 37.87", "4h46m37.87s").
 */
export function parseRa(input: string): Result<number> {
  const text = normalise(input);
  if (!text) return fail("Enter a right ascension.");
  if (text.startsWith("-")) return fail("RA cannot be negative: use 0–360° or 0–24 h.");
  const plain = text.replace(/^\+/, "");
  const decimal = /^(\d+(?:\.\d*)?|\.\d+)\s*(d|deg|°|h)?$/i.exec(plain);
  if (decimal) {
    const value = Number(decimal[1]);
    if (decimal[2]?.toLowerCase() === "h") {
      return value < 24 ? ok(value * 15) : fail(`RA in hours must be below 24, got ${value}.`);
    }
    return value < 360 ? ok(value) : fail(`RA in degrees must be below 360, got ${value}.`);
  }
  const parts = sexagesimalParts(plain);
  if (!parts) {
    return fail('RA: not a number of degrees or "hh:mm:ss.s" (e.g. 71.6578 or 04:46:37.9).');
  }
  if (parts[0] >= 24) return fail(`RA: hours must be below 24, got ${parts[0]}.`);
  const problem = checkMinutesSeconds(parts, "RA");
  if (problem) return fail(problem);
  const [hours, minutes, seconds = 0] = parts;
  return ok((hours + minutes / 60 + seconds / 3600) * 15);
}

/** Declination in degrees from decimal degrees or sexagesimal degrees ("-10:13:35.0"). */
export function parseDec(input: string): Result<number> {
  const text = normalise(input);
  if (!text) return fail("Enter a declination.");
  const sign = text.startsWith("-") ? -1 : 1;
  const unsigned = text.replace(/^[+-]\s*/, "");
  const decimal = /^(\d+(?:\.\d*)?|\.\d+)\s*(d|deg|°)?$/i.exec(unsigned);
  if (decimal) {
    const value = Number(decimal[1]);
    return value <= 90
      ? ok(sign * value)
      : fail(`Dec must be between -90 and +90 degrees, got ${sign < 0 ? "-" : ""}${value}.`);
  }
  const parts = sexagesimalParts(unsigned);
  if (!parts) {
    return fail('Dec: not a number of degrees or "±dd:mm:ss" (e.g. -10.2264 or -10:13:35.0).');
  }
  const problem = checkMinutesSeconds(parts, "Dec");
  if (problem) return fail(problem);
  const [degrees, minutes, seconds = 0] = parts;
  const value = degrees + minutes / 60 + seconds / 3600;
  // The sign is read from the text: "-00:30:00" is south although its degrees are 0.
  return value <= 90 ? ok(sign * value) : fail("Dec must be between -90 and +90 degrees.");
}

/**
 * A pasted position "RA Dec" in one field as its two halves: "71.6578 -10.2264",
 * "71.6578, -10.2264", "04:46:37.87 -10:13:35.0", "04 46 37.87 -10 13 35.0",
 * "4h46m37.87s -10d13m35s"; undefined when it is not two coordinates.
 */
export function splitPosition(input: string): [string, string] | undefined {
  const tokens = normalise(input).replace(/,/g, " ").trim().split(/\s+/).filter(Boolean);
  if (tokens.length === 2) return [tokens[0], tokens[1]];
  // A signed token after the first starts the declination: "04 46 37.87 -10 13 35".
  const signed = tokens.findIndex((token, index) => index > 0 && /^[+-]/.test(token));
  if (signed > 0) return [tokens.slice(0, signed).join(" "), tokens.slice(signed).join(" ")];
  if (tokens.length === 4 || tokens.length === 6) {
    const half = tokens.length / 2;
    return [tokens.slice(0, half).join(" "), tokens.slice(half).join(" ")];
  }
  return undefined;
}

export type Position = { ra: number; dec: number };
export type PositionErrors = { ra?: string; dec?: string };

/**
 * The RA and Dec fields as a position. A whole position pasted into the RA field (Dec left
 * empty) is split; `undefined` value and no errors when both fields are empty (no cone).
 */
export function parsePosition(
  raText: string,
  decText: string,
): { position?: Position; errors: PositionErrors } {
  let ra = raText.trim();
  let dec = decText.trim();
  if (!ra && !dec) return { errors: {} };
  if (ra && !dec) {
    const halves = splitPosition(ra);
    if (halves) [ra, dec] = halves;
  }
  const parsedRa = parseRa(ra);
  const parsedDec = dec
    ? parseDec(dec)
    : fail<number>("Enter a declination (or leave both empty).");
  const errors: PositionErrors = {};
  if (!parsedRa.ok)
    errors.ra = ra ? parsedRa.error : "Enter a right ascension (or leave both empty).";
  if (!parsedDec.ok) errors.dec = parsedDec.error;
  if (parsedRa.ok && parsedDec.ok)
    return { position: { ra: parsedRa.value, dec: parsedDec.value }, errors };
  return { errors };
}

export const MAX_RADIUS_ARCSEC = 3600;

/** A cone radius in arcseconds: a bare number is arcsec; ", ', ° (or arcsec, arcmin, deg) may follow. */
export function parseRadius(input: string, max = MAX_RADIUS_ARCSEC): Result<number> {
  const text = normalise(input);
  if (!text) return fail("Enter a radius in arcseconds.");
  const match = /^(\d+(?:\.\d*)?|\.\d+)\s*("|arcsec|''|'|arcmin|°|d|deg)?$/i.exec(text);
  if (!match) return fail("Radius: not a positive number of arcseconds (e.g. 5).");
  const unit = (match[2] ?? "arcsec").toLowerCase();
  const scale =
    unit === "'" || unit === "arcmin" ? 60 : ["°", "d", "deg"].includes(unit) ? 3600 : 1;
  const arcsec = Number(match[1]) * scale;
  if (!(arcsec > 0)) return fail("Radius must be more than 0.");
  if (arcsec > max) return fail(`Radius must be at most ${max}″ (${max / 3600}°).`);
  return ok(arcsec);
}

// ---- The sources list's search ----

export type SourcesQuery = NonNullable<
  operations["PortalService_ListSources"]["parameters"]["query"]
>;

export const SORT_COLUMNS: [string, string][] = [
  ["saved_at", "date saved"],
  ["id", "object id"],
  ["ra", "RA"],
  ["dec", "Dec"],
  ["redshift", "redshift"],
];
export const PAGE_SIZES = [10, 25, 50, 100];
const DEFAULT_PER_PAGE = 25;

export type SourcesState = {
  /** A substring of the object id. */
  id: string;
  /** The RA and Dec as typed (degrees or sexagesimal), and the radius in arcsec. */
  ra: string;
  dec: string;
  radius: string;
  /** UTC dates (YYYY-MM-DD), both days included. */
  savedAfter: string;
  savedBefore: string;
  groupIds: number[];
  sortBy: string;
  sortOrder: "asc" | "desc";
  page: number;
  perPage: number;
};

export const DEFAULT_RADIUS = "5";

/** The page's search from its URL (what is absent takes the defaults). */
export function readSourcesState(params: URLSearchParams): SourcesState {
  const positive = (name: string, fallback: number) => {
    const value = Number(params.get(name));
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  const sortBy = params.get("sortBy") ?? "saved_at";
  const perPage = positive("perPage", DEFAULT_PER_PAGE);
  return {
    id: params.get("id") ?? "",
    ra: params.get("ra") ?? "",
    dec: params.get("dec") ?? "",
    radius: params.get("radius") ?? DEFAULT_RADIUS,
    savedAfter: params.get("savedAfter") ?? "",
    savedBefore: params.get("savedBefore") ?? "",
    groupIds: (params.get("groups") ?? "")
      .split(",")
      .map(Number)
      .filter((id) => Number.isInteger(id) && id > 0),
    sortBy: SORT_COLUMNS.some(([value]) => value === sortBy) ? sortBy : "saved_at",
    sortOrder: params.get("sortOrder") === "asc" ? "asc" : "desc",
    page: positive("page", 1),
    perPage: PAGE_SIZES.includes(perPage) ? perPage : DEFAULT_PER_PAGE,
  };
}

/** The search as URL parameters; defaults are left out so that links stay short. */
export function writeSourcesState(state: SourcesState): URLSearchParams {
  const params = new URLSearchParams();
  if (state.id.trim()) params.set("id", state.id.trim());
  if (state.ra.trim() || state.dec.trim()) {
    params.set("ra", state.ra.trim());
    if (state.dec.trim()) params.set("dec", state.dec.trim());
    params.set("radius", state.radius.trim());
  }
  if (state.savedAfter) params.set("savedAfter", state.savedAfter);
  if (state.savedBefore) params.set("savedBefore", state.savedBefore);
  if (state.groupIds.length) params.set("groups", state.groupIds.join(","));
  if (state.sortBy !== "saved_at") params.set("sortBy", state.sortBy);
  if (state.sortOrder !== "desc") params.set("sortOrder", state.sortOrder);
  if (state.page > 1) params.set("page", String(state.page));
  if (state.perPage !== DEFAULT_PER_PAGE) params.set("perPage", String(state.perPage));
  return params;
}

export type SourcesErrors = PositionErrors & {
  radius?: string;
  savedBefore?: string;
  savedAfter?: string;
};

const DATE = /^\d{4}-\d{2}-\d{2}$/;

/** What is wrong with the search, per field (empty: nothing). */
export function validateSources(state: SourcesState): SourcesErrors {
  const { errors } = parsePosition(state.ra, state.dec);
  const result: SourcesErrors = { ...errors };
  if (state.ra.trim() || state.dec.trim()) {
    const radius = parseRadius(state.radius);
    if (!radius.ok) result.radius = radius.error;
  }
  if (state.savedAfter && !DATE.test(state.savedAfter))
    result.savedAfter = "Not a date (YYYY-MM-DD).";
  if (state.savedBefore && !DATE.test(state.savedBefore))
    result.savedBefore = "Not a date (YYYY-MM-DD).";
  if (state.savedAfter && state.savedBefore && state.savedAfter > state.savedBefore) {
    result.savedBefore = "“Saved before” is earlier than “saved after”.";
  }
  return result;
}

export const hasErrors = (errors: object): boolean => Object.values(errors).some(Boolean);

/** The GET /api/sources query of a valid search (cone radius in degrees, whole UTC days). */
export function sourcesQuery(state: SourcesState): SourcesQuery {
  const query: SourcesQuery = {
    pageNumber: String(state.page),
    numPerPage: String(state.perPage),
    sortBy: state.sortBy,
    sortOrder: state.sortOrder,
    includeThumbnails: "true",
  };
  if (state.id.trim()) query.sourceID = state.id.trim();
  const { position } = parsePosition(state.ra, state.dec);
  const radius = parseRadius(state.radius);
  if (position && radius.ok) {
    query.ra = String(position.ra);
    query.dec = String(position.dec);
    query.radius = String(radius.value / 3600);
  }
  if (state.savedAfter) query.savedAfter = `${state.savedAfter}T00:00:00`;
  if (state.savedBefore) query.savedBefore = `${state.savedBefore}T23:59:59.999`;
  if (state.groupIds.length) query.group_ids = state.groupIds.join(",");
  return query;
}

/** When the source was last saved to one of the groups shown (ISO), if ever. */
export function lastSaved(source: SourceEntry): string | undefined {
  const dates = (source.groups ?? [])
    .filter((group) => !group.requested && group.saved_at)
    .map((group) => group.saved_at as string)
    .sort();
  return dates.at(-1);
}

/** The newest classification of a source, if any. */
export function latestClassification(source: SourceEntry): Classification | undefined {
  return [...(source.classifications ?? [])]
    .sort((a, b) => (a.created_at ?? "").localeCompare(b.created_at ?? ""))
    .at(-1);
}

/** "1–25 of 112" for the page controls. */
export function pageRange(page: number, perPage: number, total: number): string {
  if (total === 0) return "0 of 0";
  const first = (page - 1) * perPage + 1;
  const last = Math.min(total, page * perPage);
  return `${first}–${last} of ${total}`;
}
