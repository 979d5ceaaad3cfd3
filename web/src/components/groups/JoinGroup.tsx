// The caller's standing with a group they may not be in, and the request to join it.
import { api, unwrap, type Group } from "../../api";
import type { Standing } from "../../lib/groups";
import { ActionStatus } from "./ActionStatus";
import { useAction } from "./useAction";

type Props = { group: Pick<Group, "id" | "name">; standing: Standing; onRequested: () => void };

export function JoinGroup({ group, standing, onRequested }: Props) {
  const action = useAction();
  if (standing === "member") return <span className="badge saved">Member</span>;
  if (standing === "pending") return <span className="badge">Request pending</span>;

  const request = () =>
    action.run(async () => {
      await unwrap(
        api.POST("/api/group_admission_requests", { body: { groupID: String(group.id) } }),
      );
      onRequested();
    }, `Asked to join ${group.name}.`);

  return (
    <div className="join">
      {standing === "declined" && <span className="badge rejected">Request declined</span>}
      <button
        type="button"
        className="secondary"
        disabled={action.busy}
        onClick={() => void request()}
      >
        {action.busy ? "Requesting…" : `Request to join ${group.name}`}
      </button>
      <ActionStatus action={action} />
    </div>
  );
}
