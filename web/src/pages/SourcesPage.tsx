// Saved sources: search by id, cone, save dates and groups; a page at a time (state in the URL).
import { useCallback, useEffect, useMemo, useRef } from "react";
import { useSearchParams } from "react-router-dom";
import { api, unwrap } from "../api";
import { Pager } from "../components/sources/Pager";
import { SourceSearchForm } from "../components/sources/SourceSearchForm";
import { SourcesTable } from "../components/sources/SourcesTable";
import { Status } from "../components/Status";
import {
  hasErrors,
  readSourcesState,
  sourcesQuery,
  validateSources,
  writeSourcesState,
  type SourcesState,
} from "../lib/search";
import { useApi } from "../useApi";

export default function SourcesPage() {
  const [params, setParams] = useSearchParams();
  const key = params.toString();
  const state = useMemo(() => readSourcesState(new URLSearchParams(key)), [key]);
  const invalid = hasErrors(validateSources(state));
  const results = useRef<HTMLElement>(null);

  const groups = useApi(async () => {
    const data = await unwrap(api.GET("/api/groups"));
    return data.user_accessible_groups ?? data.user_groups ?? [];
  }, []);

  const page = useApi(async () => {
    if (invalid) return undefined;
    return unwrap(api.GET("/api/sources", { params: { query: sourcesQuery(state) } }));
  }, [state, invalid]);

  const search = useCallback(
    (next: SourcesState) => setParams(writeSourcesState(next)),
    [setParams],
  );
  const goTo = useCallback(
    (pageNumber: number) => {
      search({ ...state, page: pageNumber });
      results.current?.focus();
    },
    [search, state],
  );

  // A page past the end (the list shrank since the link was made) starts over at page 1.
  const total = page.value?.totalMatches ?? 0;
  const lastPage = Math.max(1, Math.ceil(total / state.perPage));
  const outOfRange = page.error?.message === "Page number out of range.";
  useEffect(() => {
    if (outOfRange && state.page > 1) search({ ...state, page: 1 });
  }, [outOfRange, search, state]);

  const data = page.value;
  const sources = data?.sources ?? [];
  const names = new Map((groups.value ?? []).map((group) => [group.id, group.name]));
  const where = state.groupIds.length
    ? `saved to ${state.groupIds.map((id) => names.get(id) ?? `group ${id}`).join(" or ")}`
    : "saved to my groups";
  const filtered = Boolean(state.id || state.ra || state.savedAfter || state.savedBefore);
  return (
    <>
      <h1>Sources</h1>
      <Status error={groups.error} />
      <SourceSearchForm key={key} groups={groups.value ?? []} state={state} onSearch={search} />
      {invalid && (
        <p className="status error" role="alert">
          This search has errors: correct the fields marked above.
        </p>
      )}
      <Status loading={page.loading && !data} error={outOfRange ? undefined : page.error} />
      {data && (
        <section
          ref={results}
          tabIndex={-1}
          aria-label="Search results"
          aria-busy={page.loading}
          className={page.loading ? "results loading" : "results"}
        >
          <p role="status" className="result-count">
            {page.loading
              ? "Searching…"
              : `${total} source${total === 1 ? "" : "s"} ${where}${filtered ? " matching this search" : ""}`}
          </p>
          {sources.length === 0 ? (
            <p className="muted empty">
              No saved source matches. Widen the cone or the dates, or check fewer groups.
            </p>
          ) : (
            <>
              <SourcesTable sources={sources} />
              {lastPage > 1 && (
                <Pager
                  label="Source pages"
                  page={state.page}
                  perPage={state.perPage}
                  total={total}
                  onPage={goTo}
                />
              )}
            </>
          )}
        </section>
      )}
    </>
  );
}
