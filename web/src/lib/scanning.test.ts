import { describe, expect, it } from "vitest";
import {
  candidateQuery,
  fromLocalInput,
  presetGroups,
  readScanState,
  sameSearch,
  toLocalInput,
  writeScanState,
} from "./scanning";

const now = new Date("2026-12-03T12:00:00Z");

describe("scan state", () => {
  it("defaults to the last 24 hours, hiding rejected candidates", () => {
    const state = readScanState(new URLSearchParams(), now);
    expect(state.startDate).toBe("2026-12-02T12:00:00");
    expect(state.endDate).toBe("");
    expect(state.hideRejected).toBe(true);
    expect(state.page).toBe(1);
    expect(state.perPage).toBe(25);
  });

  it("round-trips through the URL", () => {
    const state = {
      ...readScanState(new URLSearchParams(), now),
      groupIds: [3, 7],
      filterIds: [12],
      savedStatus: "notSavedToAnyAccessible",
      hideRejected: false,
      sortOrigin: "demo:real-bright",
      sortKey: "drb",
      sortOrder: "desc" as const,
      page: 3,
      perPage: 50,
    };
    expect(readScanState(writeScanState(state), now)).toEqual(state);
  });

  it("takes the caller's preferred page size unless the URL says otherwise", () => {
    expect(readScanState(new URLSearchParams(), now, 50).perPage).toBe(50);
    expect(readScanState(new URLSearchParams("perPage=10"), now, 50).perPage).toBe(10);
    const state = readScanState(new URLSearchParams(), now, 50);
    expect(writeScanState(state, 50).has("perPage")).toBe(false);
  });

  it("ignores nonsense in the URL", () => {
    const state = readScanState(new URLSearchParams("groups=a,0,5&page=-2&perPage=1000"), now);
    expect(state.groupIds).toEqual([5]);
    expect(state.page).toBe(1);
    expect(state.perPage).toBe(100);
  });
});

describe("candidateQuery", () => {
  it("asks for what the page shows", () => {
    const state = { ...readScanState(new URLSearchParams(), now), groupIds: [4] };
    expect(candidateQuery(state)).toEqual({
      pageNumber: "1",
      numPerPage: "25",
      savedStatus: "all",
      includePhotometry: "true",
      groupIDs: "4",
      startDate: "2026-12-02T12:00:00",
      listNameReject: "rejected_candidates",
    });
  });

  it("sends chosen filters instead of their groups", () => {
    const state = {
      ...readScanState(new URLSearchParams(), now),
      groupIds: [4],
      filterIds: [9, 11],
    };
    const query = candidateQuery(state);
    expect(query.filterIDs).toBe("9,11");
    expect(query.groupIDs).toBeUndefined();
  });

  it("sorts by an annotation only when origin and key are both given", () => {
    const base = readScanState(new URLSearchParams(), now);
    expect(candidateQuery({ ...base, sortKey: "drb" }).sortByAnnotationKey).toBeUndefined();
    const sorted = candidateQuery({ ...base, sortOrigin: "o", sortKey: "drb", sortOrder: "desc" });
    expect(sorted.sortByAnnotationOrder).toBe("desc");
  });

  it("reuses the queryID on later pages of the same search only", () => {
    const base = readScanState(new URLSearchParams(), now);
    expect(candidateQuery(base, "q1").queryID).toBeUndefined();
    expect(candidateQuery({ ...base, page: 2 }, "q1").queryID).toBe("q1");
    expect(sameSearch(base, { ...base, page: 4 })).toBe(true);
    expect(sameSearch(base, { ...base, savedStatus: "savedToAnySelected" })).toBe(false);
  });
});

describe("helpers", () => {
  it("presets the save dialog with the passing groups the caller is in", () => {
    expect(presetGroups([1, 4, 9], [4, 9, 12])).toEqual([4, 9]);
  });

  it("converts datetime-local values", () => {
    expect(toLocalInput("2026-12-02T12:00:00")).toBe("2026-12-02T12:00");
    expect(fromLocalInput("2026-12-02T12:00")).toBe("2026-12-02T12:00:00");
    expect(fromLocalInput("")).toBe("");
  });
});
