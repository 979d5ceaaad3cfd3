// Formatting of coordinates, times and numbers as astronomers read them.

const pad = (value: number, width: number, digits = 0): string => {
  const text = value.toFixed(digits);
  const [whole] = text.split(".");
  return "0".repeat(Math.max(0, width - whole.length)) + text;
};

/** Splits a non-negative value into three sexagesimal parts, rounded at `digits` decimals of the
 * last part and carried (59.999 s becomes the next minute). */
function sexagesimal(value: number, digits: number): [number, number, number] {
  const scale = 10 ** digits;
  const totalUnits = Math.round(value * 3600 * scale);
  const whole = Math.floor(totalUnits / (3600 * scale));
  const minutes = Math.floor((totalUnits - whole * 3600 * scale) / (60 * scale));
  const seconds = (totalUnits - whole * 3600 * scale - minutes * 60 * scale) / scale;
  return [whole, minutes, seconds];
}

/** Right ascension in degrees -> "hh:mm:ss.ss". */
export function formatRa(degrees: number): string {
  const hours = (((degrees % 360) + 360) % 360) / 15;
  const [h, m, s] = sexagesimal(hours, 2);
  return `${pad(h % 24, 2)}:${pad(m, 2)}:${pad(s, 2, 2)}`;
}

/** Declination in degrees -> "+dd:mm:ss.s". */
export function formatDec(degrees: number): string {
  const sign = degrees < 0 ? "-" : "+";
  const [d, m, s] = sexagesimal(Math.abs(degrees), 1);
  return `${sign}${pad(d, 2)}:${pad(m, 2)}:${pad(s, 2, 1)}`;
}

export const formatDegrees = (value: number | null | undefined, digits = 5): string =>
  value === undefined || value === null || Number.isNaN(value) ? "—" : value.toFixed(digits);

const MJD_UNIX_EPOCH = 40587; // MJD of 1970-01-01T00:00:00Z

export const mjdToDate = (mjd: number): Date => new Date((mjd - MJD_UNIX_EPOCH) * 86_400_000);
export const dateToMjd = (date: Date): number => date.getTime() / 86_400_000 + MJD_UNIX_EPOCH;

/** An ISO 8601 instant as "YYYY-MM-DD hh:mm:ss UTC"; naive ISO strings are UTC (the API's). */
export function formatUtc(iso: string | undefined | null): string {
  if (!iso) return "—";
  const date = parseUtc(iso);
  if (Number.isNaN(date.getTime())) return iso;
  return `${date.toISOString().slice(0, 19).replace("T", " ")} UTC`;
}

export function parseUtc(iso: string): Date {
  const hasZone = /(?:Z|[+-]\d\d:?\d\d)$/.test(iso);
  return new Date(hasZone ? iso : `${iso}Z`);
}

/** "3 h ago", "2 d ago": how long before `now`. */
export function timeAgo(iso: string | undefined | null, now: Date = new Date()): string {
  if (!iso) return "—";
  const seconds = (now.getTime() - parseUtc(iso).getTime()) / 1000;
  if (Number.isNaN(seconds)) return iso;
  const steps: [number, string][] = [
    [86_400 * 365, "yr"],
    [86_400, "d"],
    [3600, "h"],
    [60, "min"],
  ];
  for (const [size, unit] of steps) {
    const count = Math.floor(Math.abs(seconds) / size);
    if (count >= 1) return seconds > 0 ? `${count} ${unit} ago` : `in ${count} ${unit}`;
  }
  return "just now";
}

/** A number with `digits` significant decimals, "—" when absent. */
export function formatNumber(value: unknown, digits = 3): string {
  if (typeof value !== "number" || !Number.isFinite(value)) {
    return value === undefined || value === null ? "—" : String(value);
  }
  if (Number.isInteger(value)) return String(value);
  const magnitude = Math.abs(value);
  if (magnitude !== 0 && (magnitude < 1e-3 || magnitude >= 1e6)) return value.toExponential(digits);
  return value.toFixed(digits);
}

/** Any annotation value as short text: numbers rounded, objects as JSON. */
export function formatValue(value: unknown): string {
  if (typeof value === "number") return formatNumber(value);
  if (typeof value === "string") return value;
  if (value === null || value === undefined) return "—";
  return JSON.stringify(value);
}

/** The ISO string of `hours` before `now`, without milliseconds, for the API's date filters. */
export function hoursBefore(hours: number, now: Date = new Date()): string {
  return new Date(now.getTime() - hours * 3_600_000).toISOString().slice(0, 19);
}
