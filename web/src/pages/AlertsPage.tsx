// The alert archive: an object's alerts (by object id or candid) or the objects in a cone.
import { useCallback, useMemo } from "react";
import { useSearchParams } from "react-router-dom";
import { AlertObject } from "../components/alerts/AlertObject";
import { AlertSearchForm } from "../components/alerts/AlertSearchForm";
import {
  loadCandid,
  loadCatalogs,
  loadCone,
  loadObject,
  type AlertsResult,
} from "../components/alerts/archive";
import { ConeResults } from "../components/alerts/ConeResults";
import { RecentAlerts } from "../components/alerts/RecentAlerts";
import { Status } from "../components/Status";
import {
  alertsSearch,
  DEFAULT_CATALOGS,
  readAlertsState,
  writeAlertsState,
  type AlertsState,
} from "../lib/alerts";
import { useApi } from "../useApi";

export default function AlertsPage() {
  const [params, setParams] = useSearchParams();
  const key = params.toString();
  const state = useMemo(() => readAlertsState(new URLSearchParams(key)), [key]);
  const { search } = useMemo(() => alertsSearch(state), [state]);

  const catalogs = useApi(loadCatalogs, []);
  const result = useApi(async (): Promise<AlertsResult | undefined> => {
    switch (search.kind) {
      case "object":
        return loadObject(search.catalog, search.objectId);
      case "candid":
        return loadCandid(search.catalog, search.candid);
      case "cone":
        return loadCone(search.catalog, search.position, search.radius);
      default:
        return undefined;
    }
  }, [search]);

  const onSearch = useCallback(
    (next: AlertsState) => setParams(writeAlertsState(next)),
    [setParams],
  );
  const value = result.value;

  return (
    <>
      <h1>Alert archive</h1>
      <p className="muted intro">
        Alerts as the archive holds them, with their ML scores, history and cross-matches. You see
        the alerts of the programs your streams grant.
      </p>
      <AlertSearchForm
        key={key}
        catalogs={catalogs.value ?? DEFAULT_CATALOGS}
        state={state}
        onSearch={onSearch}
      />
      {search.kind === "none" && <RecentAlerts catalog={state.catalog} />}
      {search.kind !== "none" && (
        <section aria-label="Alert results" aria-busy={result.loading} className="results">
          {result.loading && (
            <p className="status" role="status" aria-live="polite">
              {search.kind === "cone" ? "Searching the cone…" : "Loading alerts…"}
            </p>
          )}
          {!result.loading && <Status error={result.error} />}
          {!result.loading && !result.error && value?.kind === "missing" && (
            <p className="status" role="status">
              No {value.what} in {value.catalog} among the alerts you can read. Check the id and the
              survey.
            </p>
          )}
          {!result.loading && !result.error && value?.kind === "cone" && (
            <ConeResults
              catalog={value.catalog}
              objects={value.objects}
              alerts={value.alerts}
              radius={value.radius}
            />
          )}
          {!result.loading && !result.error && value?.kind === "object" && (
            <AlertObject result={value} />
          )}
        </section>
      )}
    </>
  );
}
