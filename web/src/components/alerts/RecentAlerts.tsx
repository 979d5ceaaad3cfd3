// Before any search: the objects of the catalog's newest alerts, to start from.
import { groupByObject, RECENT_ALERTS, recentQuery } from "../../lib/alerts";
import { useApi } from "../../useApi";
import { Status } from "../Status";
import { queryArchive } from "./archive";
import { ObjectsTable } from "./ObjectsTable";

export function RecentAlerts({ catalog }: { catalog: string }) {
  const recent = useApi(
    async () => groupByObject(await queryArchive(recentQuery(catalog)), catalog),
    [catalog],
  );
  return (
    <section aria-labelledby="recent-alerts" className="results">
      <h2 id="recent-alerts">Newest alerts in {catalog}</h2>
      <Status loading={recent.loading} error={recent.error} />
      {!recent.loading && recent.value && recent.value.length === 0 && (
        <p className="muted empty">No alert in {catalog} that you can read.</p>
      )}
      {!recent.loading && recent.value && recent.value.length > 0 && (
        <>
          <p className="muted">
            The objects of the newest {RECENT_ALERTS} alerts you can read, newest first.
          </p>
          <ObjectsTable
            catalog={catalog}
            objects={recent.value}
            caption={`Objects of the newest alerts in ${catalog}`}
          />
        </>
      )}
    </section>
  );
}
