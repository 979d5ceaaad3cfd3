// The scanning search: groups, time window (UTC), saved status, rejected, annotation sort.
import { useState, type FormEvent } from "react";
import type { Group, PortalFilter } from "../../api";
import { IdCheckboxes } from "../IdCheckboxes";
import { fromLocalInput, SAVED_STATUSES, toLocalInput, type ScanState } from "../../lib/scanning";

type Props = {
  groups: Group[];
  filters: PortalFilter[];
  state: ScanState;
  onSearch: (state: ScanState) => void;
};

export function ScanForm({ groups, filters, state, onSearch }: Props) {
  const [draft, setDraft] = useState(state);
  const set = <K extends keyof ScanState>(key: K, value: ScanState[K]) =>
    setDraft((current) => ({ ...current, [key]: value }));

  function submit(event: FormEvent) {
    event.preventDefault();
    onSearch({ ...draft, page: 1 });
  }

  function chooseGroups(groupIds: number[]) {
    // A filter stays chosen only while its group is (or no group is).
    const kept = filters.filter(
      (f) => groupIds.length === 0 || groupIds.includes(f.group_id as number),
    );
    const keptIds = new Set(kept.map((f) => f.id as number));
    setDraft((current) => ({
      ...current,
      groupIds,
      filterIds: current.filterIds.filter((fid) => keptIds.has(fid)),
    }));
  }

  const groupName = new Map(groups.map((g) => [g.id, g.name]));
  const offered = filters.filter(
    (f) => draft.groupIds.length === 0 || draft.groupIds.includes(f.group_id as number),
  );

  // On a phone the options fold away under their summary, so the first card is on screen.
  const wide = typeof window !== "undefined" && window.matchMedia("(min-width: 700px)").matches;
  return (
    <details className="card scan-options" open={wide}>
      <summary>
        Search options <span className="muted">({summarise(state, groups)})</span>
      </summary>
      <form className="scan-form" onSubmit={submit} aria-label="Candidate search">
        <IdCheckboxes
          legend="Groups (none checked: all my groups)"
          items={groups.map((group) => ({ id: group.id as number, label: group.name }))}
          chosen={draft.groupIds}
          onChange={chooseGroups}
        />
        {offered.length > 0 && (
          <IdCheckboxes
            legend="Filters (none checked: every filter of those groups)"
            items={offered.map((filter) => ({
              id: filter.id as number,
              label: (
                <>
                  {filter.name}{" "}
                  <span className="muted">
                    ({groupName.get(filter.group_id) ?? filter.group_id})
                  </span>
                </>
              ),
            }))}
            chosen={draft.filterIds}
            onChange={(filterIds) => set("filterIds", filterIds)}
          />
        )}
        <div className="toolbar">
          <label>
            Passed after (UTC)
            <input
              type="datetime-local"
              value={toLocalInput(draft.startDate)}
              onChange={(event) => set("startDate", fromLocalInput(event.target.value))}
            />
          </label>
          <label>
            Passed before (UTC)
            <input
              type="datetime-local"
              value={toLocalInput(draft.endDate)}
              onChange={(event) => set("endDate", fromLocalInput(event.target.value))}
            />
          </label>
          <label>
            Saved status
            <select
              value={draft.savedStatus}
              onChange={(event) => set("savedStatus", event.target.value)}
            >
              {SAVED_STATUSES.map(([value, label]) => (
                <option key={value} value={value}>
                  {label}
                </option>
              ))}
            </select>
          </label>
          <label className="inline">
            <input
              type="checkbox"
              checked={draft.hideRejected}
              onChange={(event) => set("hideRejected", event.target.checked)}
            />
            Hide rejected
          </label>
        </div>
        <div className="toolbar">
          <label>
            Sort by annotation origin
            <input
              value={draft.sortOrigin}
              placeholder="e.g. demo:real-bright"
              onChange={(event) => set("sortOrigin", event.target.value)}
            />
          </label>
          <label>
            Annotation key
            <input
              value={draft.sortKey}
              placeholder="e.g. drb"
              onChange={(event) => set("sortKey", event.target.value)}
            />
          </label>
          <label>
            Order
            <select
              value={draft.sortOrder}
              onChange={(event) => set("sortOrder", event.target.value as ScanState["sortOrder"])}
            >
              <option value="asc">ascending</option>
              <option value="desc">descending</option>
            </select>
          </label>
          <label>
            Per page
            <select
              value={draft.perPage}
              onChange={(event) => set("perPage", Number(event.target.value))}
            >
              {[10, 25, 50, 100].map((n) => (
                <option key={n} value={n}>
                  {n}
                </option>
              ))}
            </select>
          </label>
          <button type="submit">Search</button>
        </div>
      </form>
    </details>
  );
}

function summarise(state: ScanState, groups: Group[]): string {
  const names = groups.filter((g) => state.groupIds.includes(g.id as number)).map((g) => g.name);
  const since = state.startDate
    ? `since ${state.startDate.replace("T", " ").slice(0, 16)} UTC`
    : "any time";
  const saved =
    SAVED_STATUSES.find(([value]) => value === state.savedStatus)?.[1] ?? state.savedStatus;
  const scope = names.length ? names.join(", ") : "all my groups";
  const filters = state.filterIds.length ? ` (${state.filterIds.length} filters)` : "";
  return [scope + filters, since, saved].join(" · ");
}
