// The preferences the application reads, stored in the profile as SkyPortal names them.

export type Preferences = Record<string, unknown>;

/** One editable number: where it lives in the preferences, its label and bounds. */
export type NumberPreference = {
  path: [string, string];
  label: string;
  min: number;
  max: number;
  fallback: number;
};

export const NUMBER_PREFERENCES: NumberPreference[] = [
  {
    path: ["recentSources", "maxNumSources"],
    label: "Recently saved: sources shown",
    min: 1,
    max: 100,
    fallback: 10,
  },
  {
    path: ["topSources", "maxNumSources"],
    label: "Most viewed: sources shown",
    min: 1,
    max: 100,
    fallback: 10,
  },
  {
    path: ["topSources", "sinceDaysAgo"],
    label: "Most viewed: over the last days",
    min: 1,
    max: 365,
    fallback: 7,
  },
  {
    path: ["newsFeed", "numItems"],
    label: "News feed: items shown",
    min: 1,
    max: 1000,
    fallback: 50,
  },
  {
    path: ["scanning", "numPerPage"],
    label: "Scanning: candidates per page",
    min: 10,
    max: 100,
    fallback: 25,
  },
];

export function readNumber(
  preferences: Preferences | undefined,
  preference: NumberPreference,
): number {
  const [section, key] = preference.path;
  const value = (preferences?.[section] as Record<string, unknown> | undefined)?.[key];
  return typeof value === "number" && Number.isFinite(value) ? value : preference.fallback;
}

/** A problem with a typed value, or undefined when it is a whole number within bounds. */
export function checkNumber(text: string, preference: NumberPreference): string | undefined {
  const value = Number(text);
  if (text.trim() === "" || !Number.isInteger(value))
    return `${preference.label}: a whole number, please.`;
  if (value < preference.min || value > preference.max) {
    return `${preference.label}: from ${preference.min} to ${preference.max}.`;
  }
  return undefined;
}

/** The PATCH body's preferences for these values: only the sections touched, merged server-side. */
export function preferencesPatch(values: Map<NumberPreference, number>): Preferences {
  const patch: Record<string, Record<string, number>> = {};
  for (const [preference, value] of values) {
    const [section, key] = preference.path;
    patch[section] = { ...(patch[section] ?? {}), [key]: value };
  }
  return patch;
}
