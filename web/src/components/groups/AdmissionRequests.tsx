// Requests to join a group: its admins accept or decline the pending ones; anyone else sees
// their own request and may make one.
import { api, unwrap, type AdmissionRequestEntry, type GroupMember } from "../../api";
import { formatUtc } from "../../lib/format";
import type { Standing } from "../../lib/groups";
import { ActionStatus } from "./ActionStatus";
import { JoinGroup } from "./JoinGroup";
import { useAction } from "./useAction";

type Props = {
  group: { id: number; name: string };
  requests: AdmissionRequestEntry[];
  canAdmin: boolean;
  myId: number | undefined;
  standing: Standing;
  directory: GroupMember[];
  onChanged: () => void;
};

export function AdmissionRequests({
  group,
  requests,
  canAdmin,
  myId,
  standing,
  directory,
  onChanged,
}: Props) {
  const action = useAction();
  const userName = (id: number | undefined) =>
    directory.find((user) => user.id === id)?.username ?? `user ${id ?? "?"}`;
  const newestFirst = [...requests].sort((a, b) =>
    (b.created_at ?? "").localeCompare(a.created_at ?? ""),
  );
  const pending = newestFirst.filter((request) => request.status === "pending");
  const answered = newestFirst.filter((request) => request.status !== "pending");
  const mine = newestFirst.filter((request) => request.user_id === myId);

  const answer = (request: AdmissionRequestEntry, status: "accepted" | "declined") =>
    action.run(
      async () => {
        await unwrap(
          api.PATCH("/api/group_admission_requests/{request_id}", {
            params: { path: { request_id: request.id ?? 0 } },
            body: { status },
          }),
        );
        onChanged();
      },
      `${userName(request.user_id)}'s request was ${status}.`,
    );

  return (
    <section aria-labelledby="admission-requests" className="card">
      <h2 id="admission-requests">Admission requests</h2>
      {canAdmin ? (
        pending.length === 0 ? (
          <p className="muted">No pending requests.</p>
        ) : (
          <ul className="plain-list">
            {pending.map((request) => {
              const name = userName(request.user_id);
              return (
                <li key={request.id} className="row spread">
                  <span>
                    <strong>{name}</strong>{" "}
                    <span className="muted">asked {formatUtc(request.created_at)}</span>
                  </span>
                  <span className="row">
                    <button
                      type="button"
                      disabled={action.busy}
                      aria-label={`Accept ${name}`}
                      onClick={() => void answer(request, "accepted")}
                    >
                      Accept
                    </button>
                    <button
                      type="button"
                      className="secondary"
                      disabled={action.busy}
                      aria-label={`Decline ${name}`}
                      onClick={() => void answer(request, "declined")}
                    >
                      Decline
                    </button>
                  </span>
                </li>
              );
            })}
          </ul>
        )
      ) : null}
      <ActionStatus action={action} />
      {canAdmin && answered.length > 0 && (
        <details>
          <summary>Answered requests ({answered.length})</summary>
          <ul className="plain-list">
            {answered.map((request) => (
              <li key={request.id}>
                {userName(request.user_id)}: <RequestBadge status={request.status} />{" "}
                <span className="muted">{formatUtc(request.created_at)}</span>
              </li>
            ))}
          </ul>
        </details>
      )}
      {!canAdmin && (
        <>
          {mine.length > 0 ? (
            <p>
              Your request of {formatUtc(mine[0].created_at)}:{" "}
              <RequestBadge status={mine[0].status} />
            </p>
          ) : (
            standing !== "member" && <p className="muted">You have not asked to join this group.</p>
          )}
          {standing === "member" && mine.length === 0 && (
            <p className="muted">You are a member of this group.</p>
          )}
          {standing !== "member" && standing !== "pending" && (
            // The declined request is stated above: the button alone asks again.
            <JoinGroup group={group} standing="none" onRequested={onChanged} />
          )}
        </>
      )}
    </section>
  );
}

function RequestBadge({ status }: { status: string | undefined }) {
  const kind = status === "accepted" ? "saved" : status === "declined" ? "rejected" : "";
  return <span className={`badge ${kind}`}>{status ?? "unknown"}</span>;
}
