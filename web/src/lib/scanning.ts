// The scanning page's search: its state in the URL and the API query it makes.
import type { operations } from "../../generated/api";
import { hoursBefore } from "./format";

export type CandidateQuery = NonNullable<
  operations["PortalService_ListCandidates"]["parameters"]["query"]
>;

export const SAVED_STATUSES: [string, string][] = [
  ["all", "all"],
  ["notSavedToAnyAccessible", "not saved to any of my groups"],
  ["notSavedToAnySelected", "not saved to a selected group"],
  ["savedToAnySelected", "saved to a selected group"],
  ["savedToAllSelected", "saved to all selected groups"],
  ["savedToAnyAccessible", "saved to any of my groups"],
];

const idList = (text: string | null): number[] =>
  (text ?? "")
    .split(",")
    .map(Number)
    .filter((id) => Number.isInteger(id) && id > 0);

export type ScanState = {
  groupIds: number[];
  /** Chosen filters (of the chosen groups); none: every filter of the groups. */
  filterIds: number[];
  startDate: string;
  endDate: string;
  savedStatus: string;
  hideRejected: boolean;
  sortOrigin: string;
  sortKey: string;
  sortOrder: "asc" | "desc";
  page: number;
  perPage: number;
};

export const DEFAULT_WINDOW_HOURS = 24;

/** The page's state from its URL; what is absent takes the defaults (last 24 h, page 1, the
 * caller's preferred page size). */
export function readScanState(
  params: URLSearchParams,
  now: Date = new Date(),
  defaultPerPage = 25,
): ScanState {
  const number = (name: string, fallback: number) => {
    const value = Number(params.get(name));
    return Number.isInteger(value) && value > 0 ? value : fallback;
  };
  return {
    groupIds: idList(params.get("groups")),
    filterIds: idList(params.get("filters")),
    startDate: params.get("start") ?? hoursBefore(DEFAULT_WINDOW_HOURS, now),
    endDate: params.get("end") ?? "",
    savedStatus: params.get("saved") ?? "all",
    hideRejected: params.get("hideRejected") !== "false",
    sortOrigin: params.get("sortOrigin") ?? "",
    sortKey: params.get("sortKey") ?? "",
    sortOrder: params.get("sortOrder") === "desc" ? "desc" : "asc",
    page: number("page", 1),
    perPage: Math.min(number("perPage", defaultPerPage), 100),
  };
}

export function writeScanState(state: ScanState, defaultPerPage = 25): URLSearchParams {
  const params = new URLSearchParams();
  if (state.groupIds.length) params.set("groups", state.groupIds.join(","));
  if (state.filterIds.length) params.set("filters", state.filterIds.join(","));
  params.set("start", state.startDate);
  if (state.endDate) params.set("end", state.endDate);
  if (state.savedStatus !== "all") params.set("saved", state.savedStatus);
  if (!state.hideRejected) params.set("hideRejected", "false");
  if (state.sortOrigin && state.sortKey) {
    params.set("sortOrigin", state.sortOrigin);
    params.set("sortKey", state.sortKey);
    params.set("sortOrder", state.sortOrder);
  }
  if (state.page > 1) params.set("page", String(state.page));
  if (state.perPage !== defaultPerPage) params.set("perPage", String(state.perPage));
  return params;
}

/** The GET /api/candidates query of a state; `queryID` reuses the ordered ids of page 1. */
export function candidateQuery(state: ScanState, queryId?: string): CandidateQuery {
  const query: CandidateQuery = {
    pageNumber: String(state.page),
    numPerPage: String(state.perPage),
    savedStatus: state.savedStatus,
    includePhotometry: "true",
  };
  // The API reads groupIDs before filterIDs: chosen filters are sent alone.
  if (state.filterIds.length) query.filterIDs = state.filterIds.join(",");
  else if (state.groupIds.length) query.groupIDs = state.groupIds.join(",");
  if (state.startDate) query.startDate = state.startDate;
  if (state.endDate) query.endDate = state.endDate;
  if (state.hideRejected) query.listNameReject = "rejected_candidates";
  if (state.sortOrigin && state.sortKey) {
    query.sortByAnnotationOrigin = state.sortOrigin;
    query.sortByAnnotationKey = state.sortKey;
    query.sortByAnnotationOrder = state.sortOrder;
  }
  if (queryId && state.page > 1) query.queryID = queryId;
  return query;
}

/** The same search on another page keeps the answer's queryID; any other change drops it. */
export function sameSearch(a: ScanState, b: ScanState): boolean {
  return JSON.stringify({ ...a, page: 0 }) === JSON.stringify({ ...b, page: 0 });
}

/** The groups a Save dialog starts with: the candidate's passing groups the caller is in. */
export function presetGroups(passingGroupIds: number[], myGroupIds: number[]): number[] {
  const mine = new Set(myGroupIds);
  return passingGroupIds.filter((id) => mine.has(id));
}

/** `datetime-local` input values (no zone) <-> the API's UTC ISO strings. */
export const toLocalInput = (iso: string): string => iso.slice(0, 16);
export const fromLocalInput = (value: string): string => (value ? `${value}:00`.slice(0, 19) : "");
