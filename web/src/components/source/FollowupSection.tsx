// "Follow-up": the object's follow-up requests, a new request on an allocation, deleting one's own.
import { api, unwrap, type FollowupRequest, type Instrument, type Profile } from "../../api";
import { formatUtc } from "../../lib/format";
import { isOwn, mayDo, payloadSummary } from "../../lib/source";
import { useApi } from "../../useApi";
import { Status } from "../Status";
import { ConfirmButton } from "./ConfirmButton";
import { FollowupForm } from "./FollowupForm";
import { useSectionData } from "./useSectionData";

type Props = {
  objId: string;
  initial: FollowupRequest[] | undefined;
  profile: Profile;
  instruments: Instrument[] | undefined;
};

/** sourceID matches a substring of the id: keep this object's own requests. */
async function requestsOf(objId: string): Promise<FollowupRequest[]> {
  const page = await unwrap(
    api.GET("/api/followup_request", {
      params: { query: { sourceID: objId, numPerPage: "1000" } },
    }),
  );
  return (page.followup_requests ?? []).filter((request) => request.obj_id === objId);
}

export function FollowupSection({ objId, initial, profile, instruments }: Props) {
  const requests = useSectionData(initial, () => requestsOf(objId), []);
  const allocations = useApi(() => unwrap(api.GET("/api/allocation")), []);
  const canRequest = mayDo(profile, "Upload data");
  const sorted = [...requests.value].sort((a, b) =>
    (b.created_at ?? "").localeCompare(a.created_at ?? ""),
  );

  return (
    <section className="card source-followup" aria-labelledby="source-followup-title">
      <h2 id="source-followup-title">Follow-up</h2>
      {sorted.length === 0 ? (
        <p className="muted">No follow-up requests.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Requested (UTC)</th>
                <th scope="col">Allocation</th>
                <th scope="col">Requester</th>
                <th scope="col">Status</th>
                <th scope="col">Parameters</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((request) => {
                const allocation = request.allocation;
                return (
                  <tr key={request.id}>
                    <td className="nowrap">{formatUtc(request.created_at)}</td>
                    <td>
                      {allocation?.instrument?.name ?? `allocation ${request.allocation_id}`}
                      {allocation?.group?.name && (
                        <span className="muted"> · {allocation.group.name}</span>
                      )}
                      {allocation?.pi && <span className="muted"> · PI {allocation.pi}</span>}
                    </td>
                    <td>{request.requester?.username ?? "—"}</td>
                    <td>
                      <span className={`badge status-${(request.status ?? "").split(" ")[0]}`}>
                        {request.status}
                      </span>
                    </td>
                    <td className="payload">
                      {payloadSummary(request.payload as Record<string, unknown> | undefined)}
                    </td>
                    <td className="actions">
                      {canRequest &&
                        isOwn(profile, request.requester_id) &&
                        request.status !== "deleted" && (
                          <ConfirmButton
                            label={`Delete follow-up request ${request.id}`}
                            onConfirm={async () => {
                              await unwrap(
                                api.DELETE("/api/followup_request/{followup_request_id}", {
                                  params: { path: { followup_request_id: request.id as number } },
                                }),
                              );
                              await requests.reload();
                            }}
                          />
                        )}
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      {requests.error && <Status error={requests.error} />}
      {allocations.error && <Status error={allocations.error} />}
      {canRequest ? (
        <FollowupForm
          objId={objId}
          allocations={allocations.value}
          instruments={instruments}
          onRequested={requests.reload}
        />
      ) : (
        <p className="muted">Requesting follow-up needs the “Upload data” permission.</p>
      )}
    </section>
  );
}
