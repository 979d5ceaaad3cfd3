// Scanning: the candidates that the caller's groups' filters passed, a page at a time.
import { useCallback, useMemo, useRef, useState } from "react";
import { useSearchParams } from "react-router-dom";
import { api, joinIds, unwrap, type Candidate } from "../api";
import { CandidateCard } from "../components/scanning/CandidateCard";
import { TaxonomyClasses } from "../components/scanning/QuickClassify";
import { SaveDialog } from "../components/scanning/SaveDialog";
import { ScanForm } from "../components/scanning/ScanForm";
import { Status } from "../components/Status";
import {
  candidateQuery,
  presetGroups,
  readScanState,
  sameSearch,
  writeScanState,
  type ScanState,
} from "../lib/scanning";
import { readNumber, NUMBER_PREFERENCES, type Preferences } from "../lib/preferences";
import { flattenHierarchy } from "../lib/taxonomy";
import { useProfile } from "../session";
import { useApi } from "../useApi";

const REJECTED = "rejected_candidates";
const SCANNING_PAGE_SIZE = NUMBER_PREFERENCES.find((p) => p.path[0] === "scanning")!;

export default function ScanningPage() {
  const [params, setParams] = useSearchParams();
  const preferences = useProfile().preferences as Preferences | undefined;
  const pageSize = readNumber(preferences, SCANNING_PAGE_SIZE);
  const state = useMemo(() => readScanState(params, new Date(), pageSize), [params, pageSize]);
  const lastSearch = useRef<{ state: ScanState; queryId?: string }>(undefined);
  const [saving, setSaving] = useState<Candidate>();

  const groups = useApi(async () => {
    const data = await unwrap(api.GET("/api/groups"));
    return (data.user_groups ?? []).filter((group) => !group.single_user_group);
  }, []);
  const filters = useApi(() => unwrap(api.GET("/api/filters")), []);
  const taxonomy = useApi(async () => {
    const all = await unwrap(api.GET("/api/taxonomy"));
    return all.find((t) => t.isLatest) ?? all[0];
  }, []);
  const classes = useMemo(() => flattenHierarchy(taxonomy.value?.hierarchy), [taxonomy.value]);
  const rejected = useApi(
    () => unwrap(api.GET("/api/listing", { params: { query: { listName: REJECTED } } })),
    [],
  );

  const page = useApi(async () => {
    const previous = lastSearch.current;
    const queryId = previous && sameSearch(previous.state, state) ? previous.queryId : undefined;
    const data = await unwrap(
      api.GET("/api/candidates", { params: { query: candidateQuery(state, queryId) } }),
    );
    lastSearch.current = { state, queryId: data.queryID };
    return data;
  }, [state]);

  const search = useCallback(
    (next: ScanState) => setParams(writeScanState(next, pageSize)),
    [setParams, pageSize],
  );
  const rejections = new Map((rejected.value ?? []).map((row) => [row.obj_id, row.id as number]));
  const myGroups = groups.value ?? [];

  async function reject(objId: string) {
    await unwrap(api.POST("/api/listing", { body: { obj_id: objId, list_name: REJECTED } }));
    rejected.reload();
  }
  async function unreject(objId: string) {
    const listingId = rejections.get(objId);
    if (listingId === undefined) return;
    await unwrap(
      api.DELETE("/api/listing/{listing_id}", { params: { path: { listing_id: listingId } } }),
    );
    rejected.reload();
  }
  async function save(objId: string, groupIds: number[]) {
    await unwrap(
      api.POST("/api/sources", { body: { id: objId, group_ids: groupIds.map(String) } }),
    );
    page.reload();
  }
  async function classify(candidate: Candidate, classification: string) {
    const mine = myGroups.map((g) => g.id as number);
    const preset = presetGroups(candidate.passing_group_ids ?? [], mine);
    await unwrap(
      api.POST("/api/classification", {
        body: {
          obj_id: candidate.id,
          classification,
          taxonomy_id: taxonomy.value?.id,
          probability: 1,
          group_ids: preset.length ? preset : mine,
        },
      }),
    );
    page.reload();
  }

  const data = page.value;
  const total = data?.totalMatches ?? 0;
  const pages = Math.max(1, Math.ceil(total / state.perPage));
  const pager = (
    <nav className="pager" aria-label="Candidate pages">
      <button
        type="button"
        className="secondary"
        disabled={state.page <= 1}
        onClick={() => search({ ...state, page: state.page - 1 })}
      >
        Previous page
      </button>
      <span>
        Page {state.page} of {pages}
      </span>
      <button
        type="button"
        className="secondary"
        disabled={state.page >= pages}
        onClick={() => search({ ...state, page: state.page + 1 })}
      >
        Next page
      </button>
    </nav>
  );

  return (
    <>
      <h1>Scan candidates</h1>
      <Status error={groups.error} />
      {groups.value && (
        <ScanForm
          key={params.toString()}
          groups={myGroups}
          filters={filters.value ?? []}
          state={state}
          onSearch={search}
        />
      )}
      <Status loading={page.loading && !data} error={page.error} />
      {data && (
        <section aria-label="Candidates" aria-busy={page.loading}>
          <p role="status">
            {total.toLocaleString("en-US")} candidate{total === 1 ? "" : "s"}{" "}
            {state.groupIds.length ? `in groups ${joinIds(state.groupIds)}` : "in my groups"}
          </p>
          {total > state.perPage && pager}
          <div className="cards">
            {(data.candidates ?? []).map((candidate) => (
              <CandidateCard
                key={candidate.id}
                candidate={candidate}
                groups={myGroups}
                rejected={rejections.has(candidate.id as string)}
                classes={classes}
                onSave={() => setSaving(candidate)}
                onReject={() => reject(candidate.id as string)}
                onUnreject={() => unreject(candidate.id as string)}
                onClassify={(classification) => classify(candidate, classification)}
              />
            ))}
          </div>
          {total > state.perPage && pager}
        </section>
      )}
      <TaxonomyClasses classes={classes} />
      {saving && (
        <SaveDialog
          objId={saving.id as string}
          groups={myGroups}
          preset={presetGroups(
            saving.passing_group_ids ?? [],
            myGroups.map((g) => g.id as number),
          )}
          onSave={(groupIds) => save(saving.id as string, groupIds)}
          onClose={() => setSaving(undefined)}
        />
      )}
    </>
  );
}
