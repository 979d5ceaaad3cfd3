// "Candidate history": each time a filter passed an alert of the object, and which alert.
import { api, ApiError, unwrap, type Group, type ObjDetail, type PassingAlert } from "../../api";
import { formatUtc } from "../../lib/format";
import { parseJsonLossless } from "../../lib/jsonText";
import { useApi } from "../../useApi";
import { Status } from "../Status";

type Pass = PassingAlert & { candid: string };

/** The passes, each with its alert's candid exact (JSON.parse would round its 19 digits). */
async function loadPasses(objId: string): Promise<Pass[] | null> {
  const { data, error, response } = await api.GET("/api/candidates/{obj_id}", {
    params: { path: { obj_id: objId }, query: { includeAlerts: "true" } },
    parseAs: "text",
  });
  // Not a candidate (an object saved by hand): no filter ever passed it.
  if (response.status === 400 || response.status === 404) return null;
  if (!response.ok || typeof data !== "string") {
    const message = (error as { message?: string } | undefined)?.message;
    throw new ApiError(message ?? `${response.status} ${response.statusText}`, response.status);
  }
  // Integers past 2^53 come back as their digits (strings); the rest as numbers.
  const envelope = parseJsonLossless(data) as { data?: ObjDetail };
  return (envelope.data?.passing_alerts ?? []).map((pass) => ({
    ...pass,
    candid: String(pass.passing_alert_id ?? "—"),
  }));
}

type Props = { objId: string; groups: Group[] };

export function CandidateHistory({ objId, groups }: Props) {
  const passes = useApi(() => loadPasses(objId), [objId]);
  const filters = useApi(() => unwrap(api.GET("/api/filters")), []);
  const filterOf = (filterId: number | undefined) => filters.value?.find((f) => f.id === filterId);
  const groupName = (groupId: number | undefined) =>
    groups.find((g) => g.id === groupId)?.name ??
    (groupId === undefined ? "—" : `group ${groupId}`);
  const rows = [...(passes.value ?? [])].sort((a, b) =>
    (b.passed_at ?? "").localeCompare(a.passed_at ?? ""),
  );
  const filterCount = new Set(rows.map((row) => row.filter_id)).size;

  return (
    <section className="card source-history" aria-labelledby="source-history-title">
      <h2 id="source-history-title">Candidate history</h2>
      {passes.loading && passes.value === undefined && <Status loading />}
      {passes.error && <Status error={passes.error} />}
      {passes.value === null && (
        <p className="muted">Never a candidate: no filter passed an alert of this object.</p>
      )}
      {passes.value && rows.length === 0 && <p className="muted">No passes recorded.</p>}
      {rows.length > 0 && (
        <>
          <p className="muted">
            {rows.length} {rows.length === 1 ? "pass" : "passes"} through {filterCount}{" "}
            {filterCount === 1 ? "filter" : "filters"}; first{" "}
            {formatUtc(rows[rows.length - 1].passed_at)}.
          </p>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Passed (UTC)</th>
                  <th scope="col">Filter</th>
                  <th scope="col">Group</th>
                  <th scope="col">Alert candid</th>
                </tr>
              </thead>
              <tbody>
                {rows.map((row, index) => {
                  const filter = filterOf(row.filter_id);
                  return (
                    <tr key={`${row.filter_id}-${row.candid}-${index}`}>
                      <td className="nowrap">{formatUtc(row.passed_at)}</td>
                      <td>{filter?.name ?? `filter ${row.filter_id}`}</td>
                      <td>{filter ? groupName(filter.group_id) : "—"}</td>
                      <td className="mono">{row.candid}</td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
    </section>
  );
}
