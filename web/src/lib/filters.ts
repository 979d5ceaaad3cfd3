// Filters: Kowalski's filter document as the API answers it, the pipeline editor's checks, the
// test-on-archive form's bounds, and a line diff of two versions.
import type { Schemas } from "../api";
import {
  JsonSyntaxError,
  parseJsonLossless,
  parseJsonNode,
  prettyJson,
  type JsonValue,
} from "./jsonText";

type PortalFilter = Schemas["skymesh.portal.v1.FilterJson"];
type FilterBody = Schemas["skymesh.filters.v1.FilterBodyJson"];
type FilterPatch = Schemas["skymesh.filters.v1.FilterPatchJson"];
type FilterErrors = Schemas["skymesh.filters.v1.FilterErrorsJson"];
type FilterErrorExample = Schemas["skymesh.filters.v1.FilterErrorExampleJson"];
type JsonObject = { [key: string]: JsonValue };

/** One version of a pipeline ({fid, pipeline as JSON text, created_at}); the API types
 * GET /api/filters/{filter_id}'s `data` as any JSON, so readFilterDoc narrows it. */
export type FilterVersion = {
  fid: NonNullable<FilterPatch["active_fid"]>;
  pipeline: string;
  created_at: string;
};

/** The autosave settings, whether the API holds a bool or Kowalski's object
 * {active, comment, ignore_group_ids, pipeline, saver_id}. */
export type Autosave = {
  active: boolean;
  comment: string;
  ignore_group_ids: number[];
  /** The stored value itself, so that a change keeps the keys this page does not edit. */
  raw: JsonValue;
};

/** A filter with its versions: SkyPortal's side (name, group, stream) and Kowalski's. */
export type FilterDoc = Required<Pick<PortalFilter, "id" | "name" | "group_id" | "stream_id">> & {
  catalog: NonNullable<FilterBody["catalog"]>;
  permissions: NonNullable<FilterBody["permissions"]>;
  active: boolean;
  active_fid: FilterVersion["fid"] | null;
  update_annotations: boolean;
  autosave: Autosave;
  auto_followup: JsonObject;
  /** The oldest first, as Kowalski appends them. */
  versions: FilterVersion[];
};

const isObject = (value: unknown): value is JsonObject =>
  typeof value === "object" && value !== null && !Array.isArray(value);

/** Extended JSON's dates ({"$date": "…"} or {"$date": {"$numberLong": ms}}) as ISO text. */
export function readDate(value: unknown): string {
  if (typeof value === "string") return value;
  if (!isObject(value)) return "";
  const date = value.$date;
  if (typeof date === "string") return date;
  const ms = typeof date === "number" ? date : isObject(date) ? Number(date.$numberLong) : NaN;
  return Number.isFinite(ms) ? new Date(ms).toISOString() : "";
}

const readNumber = (value: unknown): number =>
  typeof value === "number" ? value : Number(value ?? NaN);

export function readAutosave(value: unknown): Autosave {
  if (!isObject(value)) {
    return { active: value === true, comment: "", ignore_group_ids: [], raw: value === true };
  }
  const ignore = Array.isArray(value.ignore_group_ids) ? value.ignore_group_ids : [];
  return {
    active: value.active === true,
    comment: typeof value.comment === "string" ? value.comment : "",
    ignore_group_ids: ignore.map(readNumber).filter(Number.isFinite),
    raw: value,
  };
}

/** The autosave object to PATCH: the stored one with these changes (Kowalski's other keys, a
 * pipeline or saver_id, are kept; an empty comment or ignore list is left out). */
export function autosavePatch(
  current: Autosave,
  changes: Partial<Pick<Autosave, "active" | "comment" | "ignore_group_ids">>,
): JsonObject {
  const next: JsonObject = isObject(current.raw) ? { ...current.raw } : {};
  next.active = changes.active ?? current.active;
  const comment = (changes.comment ?? current.comment).trim();
  if (comment) next.comment = comment;
  else delete next.comment;
  const ignore = changes.ignore_group_ids ?? current.ignore_group_ids;
  if (ignore.length > 0) next.ignore_group_ids = [...ignore];
  else delete next.ignore_group_ids;
  return next;
}

/** Narrows GET /api/filters/{filter_id}'s data (a filter without versions has only SkyPortal's
 * fields: it has never had a pipeline). */
export function readFilterDoc(data: unknown): FilterDoc {
  if (!isObject(data)) throw new Error("The filter's answer is not an object.");
  const versions: FilterVersion[] = (Array.isArray(data.fv) ? data.fv : [])
    .filter(isObject)
    .map((version) => ({
      fid: String(version.fid ?? ""),
      pipeline:
        typeof version.pipeline === "string"
          ? version.pipeline
          : JSON.stringify(version.pipeline ?? []),
      created_at: readDate(version.created_at),
    }));
  return {
    id: readNumber(data.id ?? data.filter_id),
    name: typeof data.name === "string" ? data.name : `filter ${String(data.id ?? data.filter_id)}`,
    group_id: readNumber(data.group_id),
    stream_id: readNumber(data.stream_id),
    catalog: typeof data.catalog === "string" ? data.catalog : "",
    permissions: Array.isArray(data.permissions) ? data.permissions.map(readNumber) : [],
    active: data.active === true,
    active_fid: typeof data.active_fid === "string" && data.active_fid ? data.active_fid : null,
    update_annotations: data.update_annotations === true,
    autosave: readAutosave(data.autosave),
    auto_followup: isObject(data.auto_followup) ? data.auto_followup : {},
    versions,
  };
}

export const activeVersion = (filter: FilterDoc): FilterVersion | undefined =>
  filter.versions.find((version) => version.fid === filter.active_fid);

/** A stored pipeline (JSON text) indented for the editor, keys and numbers as stored. */
export const formatPipeline = (text: string): string => prettyJson(text);

export type PipelineCheck =
  | { ok: true; stages: number }
  | { ok: false; message: string; line: number; column: number; offset: number };

/** The editor's own check: is the text JSON at all, and where not. What a pipeline may contain
 * (its stages, forbidden ones) is the server's to say: it answers 400 with the reason. */
export function checkPipeline(text: string): PipelineCheck {
  try {
    const node = parseJsonNode(text);
    return { ok: true, stages: node.kind === "array" ? node.items.length : 0 };
  } catch (error) {
    if (error instanceof JsonSyntaxError) {
      return {
        ok: false,
        message: error.message,
        line: error.line,
        column: error.column,
        offset: error.offset,
      };
    }
    throw error;
  }
}

/** POST /api/filters's body for a new version, with the pipeline spliced in as typed: the
 * server reads the body as written, so keys keep their order ($sort by several fields) and
 * integers their digits (a candid in a $match). The text must have passed checkPipeline. */
export const newVersionBody = (filterId: number, pipelineText: string): string =>
  `{"filter_id": ${JSON.stringify(filterId)}, "pipeline": ${pipelineText.trim()}}`;

// ---- test on archived alerts ------------------------------------------------------------------

/** Object ids typed in a box: separated by commas, spaces or new lines; duplicates dropped. */
export function parseObjectIds(text: string): string[] {
  return [...new Set(text.split(/[\s,;]+/).filter(Boolean))];
}

const JD_UNIX_EPOCH = 2440587.5;
export const isoToJd = (iso: string): number => Date.parse(iso) / 86_400_000 + JD_UNIX_EPOCH;
export const jdToIso = (jd: number): string =>
  new Date((jd - JD_UNIX_EPOCH) * 86_400_000).toISOString();

export type TimeBound = { value: number | string; jd: number };

/** A bound of the test window as typed: a Julian date (2458882.5) or a UTC date and time
 * (2020-02-04, 2020-02-04 12:00, 2020-02-04T12:00:00Z), sent as Kowalski takes it. */
export function parseTimeBound(text: string): TimeBound | { error: string } | undefined {
  const trimmed = text.trim();
  if (!trimmed) return undefined;
  if (/^\d+(\.\d+)?$/.test(trimmed)) {
    const jd = Number(trimmed);
    if (jd < 2_400_000 || jd > 2_600_000) {
      return {
        error: "A Julian date is a number such as 2458882.5 (an MJD needs 2400000.5 added).",
      };
    }
    return { value: jd, jd };
  }
  const match = /^(\d{4}-\d{2}-\d{2})(?:[T ](\d{2}:\d{2})(:\d{2}(?:\.\d+)?)?)?\s*(?:Z|UTC)?$/i.exec(
    trimmed,
  );
  if (!match) {
    return {
      error: "Write a UTC date and time (2020-02-04 or 2020-02-04T12:00:00) or a Julian date.",
    };
  }
  const iso = `${match[1]}T${match[2] ?? "00:00"}${(match[3] ?? ":00").slice(0, 3)}`;
  const jd = isoToJd(`${iso}Z`);
  if (!Number.isFinite(jd)) return { error: `${trimmed} is not a valid date.` };
  return { value: iso, jd };
}

/** What Kowalski refuses, said next to the form before the request: a window needs both ends,
 * in order, and at most a day long unless object ids narrow it. */
export function checkTestWindow(
  objectIds: string[],
  start?: TimeBound,
  end?: TimeBound,
): string | undefined {
  if (objectIds.length > 1000) return "At most 1000 object ids at once.";
  if (start && end && end.jd <= start.jd) return "The window's end must be after its start.";
  if (objectIds.length > 0) return undefined;
  if (!start || !end) return "Give object ids, or a time window (start and end).";
  if (end.jd - start.jd > 1 + 1e-9)
    return "Without object ids the window may be at most one day long.";
  return undefined;
}

export type TestPass = {
  candid: string;
  objectId: string | undefined;
  annotations: JsonObject | undefined;
  /** Whatever else the pipeline's last stage put out. */
  other: JsonObject;
};

export type TestErrors = Omit<Required<FilterErrors>, "examples"> & {
  /** Candids as text: they are 64-bit. */
  examples: (Omit<Required<FilterErrorExample>, "candid"> & { candid: string })[];
};

export type TestReply = { message: string; passes: TestPass[]; errors: TestErrors | undefined };

const idText = (value: JsonValue | undefined): string =>
  value === undefined || value === null
    ? ""
    : typeof value === "object"
      ? JSON.stringify(value)
      : String(value);

/** POST /api/filters/{filter_id}/test's answer, read from its text so candids stay exact. */
export function readTestReply(text: string): TestReply {
  const reply = parseJsonLossless(text);
  if (!isObject(reply)) throw new Error("The test's answer is not an object.");
  const passes = (Array.isArray(reply.data) ? reply.data : []).filter(isObject).map((output) => {
    const { _id, candid, objectId, objectid, annotations, ...other } = output;
    const object = objectId ?? objectid;
    return {
      candid: idText(candid ?? _id),
      objectId: typeof object === "string" ? object : undefined,
      annotations: isObject(annotations) ? annotations : undefined,
      other,
    };
  });
  let errors: TestErrors | undefined;
  if (isObject(reply.errors)) {
    const block = reply.errors;
    errors = {
      filter_id: readNumber(block.filter_id),
      fid: idText(block.fid),
      alerts_evaluated: readNumber(block.alerts_evaluated ?? 0),
      count: readNumber(block.count ?? 0),
      examples: (Array.isArray(block.examples) ? block.examples : [])
        .filter(isObject)
        .map((example) => ({
          candid: idText(example.candid),
          message: idText(example.message),
        })),
    };
  }
  return { message: typeof reply.message === "string" ? reply.message : "", passes, errors };
}

/** The archive query that finds the object of each candid (a pipeline need not output it):
 * candids go in as written, since they exceed 2^53. */
export function objectLookupQuery(catalog: string, candids: string[]): string {
  const digits = candids.filter((candid) => /^\d+$/.test(candid));
  return (
    `{"query_type": "find", "query": {"catalog": ${JSON.stringify(catalog)}, ` +
    `"filter": {"candid": {"$in": [${digits.join(", ")}]}}, ` +
    `"projection": {"_id": 0, "candid": 1, "objectId": 1, "objectid": 1}}}`
  );
}

/** candid -> object id, from the archive query's answer text. */
export function readObjectLookup(text: string): Map<string, string> {
  const reply = parseJsonLossless(text);
  const found = new Map<string, string>();
  if (!isObject(reply) || !Array.isArray(reply.data)) return found;
  for (const row of reply.data.filter(isObject)) {
    const object = row.objectId ?? row.objectid;
    if (typeof object === "string") found.set(idText(row.candid), object);
  }
  return found;
}

/** The archive query for the newest alert's Julian date in a collection (the test window's
 * "last day in the archive"). */
export const newestAlertQuery = (catalog: string): string =>
  `{"query_type": "find", "query": {"catalog": ${JSON.stringify(catalog)}, "filter": {}, ` +
  `"projection": {"_id": 0, "candidate.jd": 1}}, "kwargs": {"sort": [["candidate.jd", -1]], "limit": 1}}`;

export function readNewestJd(text: string): number | undefined {
  const reply = parseJsonLossless(text);
  if (!isObject(reply) || !Array.isArray(reply.data)) return undefined;
  const first = reply.data[0];
  const candidate = isObject(first) ? first.candidate : undefined;
  return isObject(candidate) && typeof candidate.jd === "number" ? candidate.jd : undefined;
}

// ---- comparing versions -----------------------------------------------------------------------

export type DiffLine = { kind: "same" | "added" | "removed"; text: string };

/** Line diff of two texts (longest common subsequence): what `after` removed and added. */
export function diffLines(before: string, after: string): DiffLine[] {
  const a = before.split("\n");
  const b = after.split("\n");
  // common[i][j]: the longest common subsequence of a[i..] and b[j..].
  const common = Array.from({ length: a.length + 1 }, () =>
    new Array<number>(b.length + 1).fill(0),
  );
  for (let i = a.length - 1; i >= 0; i--) {
    for (let j = b.length - 1; j >= 0; j--) {
      common[i][j] =
        a[i] === b[j] ? common[i + 1][j + 1] + 1 : Math.max(common[i + 1][j], common[i][j + 1]);
    }
  }
  const lines: DiffLine[] = [];
  let i = 0;
  let j = 0;
  while (i < a.length && j < b.length) {
    if (a[i] === b[j]) {
      lines.push({ kind: "same", text: a[i] });
      i++;
      j++;
    } else if (common[i + 1][j] >= common[i][j + 1]) {
      lines.push({ kind: "removed", text: a[i++] });
    } else {
      lines.push({ kind: "added", text: b[j++] });
    }
  }
  while (i < a.length) lines.push({ kind: "removed", text: a[i++] });
  while (j < b.length) lines.push({ kind: "added", text: b[j++] });
  return lines;
}

/** "ZTF_alerts, programids 1, 2": what a stream reads. */
export function describeStream(altdata: unknown): string {
  if (!isObject(altdata)) return "";
  const collection = typeof altdata.collection === "string" ? altdata.collection : "";
  const selector = Array.isArray(altdata.selector) ? altdata.selector.map(String) : [];
  const programids = selector.length
    ? `programid${selector.length > 1 ? "s" : ""} ${selector.join(", ")}`
    : "";
  return [collection, programids].filter(Boolean).join(", ");
}
