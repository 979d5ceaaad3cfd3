// The source page's pure logic: table sorting, group choices, follow-up payloads, encodings.
import type { Group, Profile, SavedGroup } from "../api";
import type { Point } from "./photometry";

// ---- the photometry table -------------------------------------------------------------------

export type PointKey = "mjd" | "filter" | "mag" | "limit" | "flux" | "instrument" | "origin";
export type Direction = "asc" | "desc";

/**
 * The points sorted by one column; points without that value (a limit has no magnitude) go
 * last either way, and ties keep time order.
 */
export function sortPoints(points: Point[], key: PointKey, direction: Direction): Point[] {
  const sign = direction === "asc" ? 1 : -1;
  return [...points].sort((a, b) => {
    const x = a[key];
    const y = b[key];
    const missingX = x === undefined || x === "";
    const missingY = y === undefined || y === "";
    if (missingX || missingY) {
      if (missingX && missingY) return a.mjd - b.mjd;
      return missingX ? 1 : -1;
    }
    const order =
      typeof x === "number" && typeof y === "number" ? x - y : String(x).localeCompare(String(y));
    return order !== 0 ? sign * order : a.mjd - b.mjd;
  });
}

// ---- groups --------------------------------------------------------------------------------

export const isSystemAdmin = (profile: Pick<Profile, "acls">): boolean =>
  (profile.acls ?? []).includes("System admin");

export const mayDo = (profile: Pick<Profile, "acls">, acl: string): boolean =>
  isSystemAdmin(profile) || (profile.acls ?? []).includes(acl);

/** The author (or a system admin) deletes a comment, classification or request. */
export const isOwn = (
  profile: Pick<Profile, "id" | "acls">,
  ownerId: number | null | undefined,
): boolean =>
  isSystemAdmin(profile) || (ownerId !== undefined && ownerId !== null && ownerId === profile.id);

const byName = (a: Group, b: Group) => (a.name ?? "").localeCompare(b.name ?? "");

/**
 * The groups the caller may save the object to now: their own groups (every group, for a system
 * admin, whom the API lets save anywhere) where it is not saved yet; never a user's own group.
 */
export function saveableGroups(
  mine: Group[],
  all: Group[],
  saved: SavedGroup[],
  admin: boolean,
): Group[] {
  const active = new Set(saved.filter((g) => g.active).map((g) => g.id));
  return (admin ? all : mine).filter((g) => !g.single_user_group && !active.has(g.id)).sort(byName);
}

/**
 * The groups the caller may invite: those they are not a member of (the API saves to a member's
 * group at once instead), not already saved to or invited. A system admin saves anywhere, so
 * has none to invite.
 */
export function invitableGroups(
  mine: Group[],
  all: Group[],
  saved: SavedGroup[],
  admin: boolean,
): Group[] {
  if (admin) return [];
  const own = new Set(mine.map((g) => g.id));
  const taken = new Set(saved.filter((g) => g.active || g.requested).map((g) => g.id));
  return all.filter((g) => !g.single_user_group && !own.has(g.id) && !taken.has(g.id)).sort(byName);
}

// ---- follow-up -----------------------------------------------------------------------------

export type FollowupForm = {
  startDate: string;
  endDate: string;
  priority: string;
  exposureTime: string;
  exposureCount: string;
  filters: string[];
  note: string;
};

export type FollowupErrors = Partial<Record<keyof FollowupForm, string>>;

const isoDay = (date: Date): string => date.toISOString().slice(0, 10);

/** The form's defaults: tonight for a week, priority 1, one 300 s exposure. */
export function defaultFollowupForm(now: Date = new Date()): FollowupForm {
  return {
    startDate: isoDay(now),
    endDate: isoDay(new Date(now.getTime() + 7 * 86_400_000)),
    priority: "1",
    exposureTime: "300",
    exposureCount: "1",
    filters: [],
    note: "",
  };
}

/**
 * The request's payload (the facility's parameters, which the API keeps as given), or the form's
 * errors by field. `instrumentFilters` is the allocation's instrument's filters: an imager's
 * request names at least one of them.
 */
export function followupPayload(
  form: FollowupForm,
  instrumentFilters: string[],
): { payload: Record<string, unknown> } | { errors: FollowupErrors } {
  const errors: FollowupErrors = {};
  const day = /^\d{4}-\d\d-\d\d$/;
  if (!day.test(form.startDate)) errors.startDate = "Give the first night (YYYY-MM-DD).";
  if (!day.test(form.endDate)) errors.endDate = "Give the last night (YYYY-MM-DD).";
  else if (day.test(form.startDate) && form.endDate < form.startDate) {
    errors.endDate = "The end date is before the start date.";
  }
  const priority = Number(form.priority);
  if (!Number.isInteger(priority) || priority < 1 || priority > 5) {
    errors.priority = "Priority is a whole number from 1 (lowest) to 5 (highest).";
  }
  const exposure = Number(form.exposureTime);
  if (!form.exposureTime.trim() || !Number.isFinite(exposure) || exposure <= 0) {
    errors.exposureTime = "Exposure time is a positive number of seconds.";
  }
  const count = Number(form.exposureCount);
  if (!Number.isInteger(count) || count < 1) errors.exposureCount = "At least one exposure.";
  const filters = form.filters.filter((f) => instrumentFilters.includes(f));
  if (instrumentFilters.length > 0 && filters.length === 0)
    errors.filters = "Choose at least one filter.";
  if (Object.keys(errors).length) return { errors };
  return {
    payload: {
      start_date: form.startDate,
      end_date: form.endDate,
      priority,
      exposure_time: exposure,
      exposure_counts: count,
      ...(filters.length ? { filters } : {}),
      ...(form.note.trim() ? { comment: form.note.trim() } : {}),
    },
  };
}

/** A payload as short "key: value" text for a table cell. */
export function payloadSummary(payload: Record<string, unknown> | null | undefined): string {
  return Object.entries(payload ?? {})
    .map(
      ([key, value]) =>
        `${key}: ${Array.isArray(value) ? value.join(", ") : typeof value === "object" && value !== null ? JSON.stringify(value) : String(value)}`,
    )
    .join("; ");
}

// ---- encodings -----------------------------------------------------------------------------

/** Bytes as base64 (the API's attachment body), in chunks: spreading a large file into
 * String.fromCharCode at once overflows the call stack. */
export function bytesToBase64(bytes: Uint8Array): string {
  let binary = "";
  const chunk = 0x8000;
  for (let start = 0; start < bytes.length; start += chunk) {
    binary += String.fromCharCode(...bytes.subarray(start, start + chunk));
  }
  return btoa(binary);
}

/** A probability field's text -> a number in [0, 1], or an error message. */
export function parseProbability(text: string): number | string {
  const value = Number(text);
  if (!text.trim() || !Number.isFinite(value) || value < 0 || value > 1) {
    return "Probability is a number from 0 to 1.";
  }
  return value;
}
