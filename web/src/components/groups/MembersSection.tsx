// A group's members; its admins (and system admins) add, remove and promote them.
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type GroupMember } from "../../api";
import { byName, resolveUser } from "../../lib/groups";
import { ActionStatus } from "./ActionStatus";
import { ConfirmButton } from "./ConfirmButton";
import { useAction } from "./useAction";

type Props = {
  groupId: number;
  members: GroupMember[];
  canAdmin: boolean;
  /** Every user the caller can see (the Sitewide Group's members), to find one by name. */
  directory: GroupMember[];
  myId: number | undefined;
  onChanged: (affectsMe: boolean) => void;
};

export function MembersSection({ groupId, members, canAdmin, directory, myId, onChanged }: Props) {
  const action = useAction();
  const sorted = [...members].sort((a, b) => byName({ name: a.username }, { name: b.username }));

  const setAdmin = (member: GroupMember, admin: boolean) =>
    action.run(
      async () => {
        await unwrap(
          api.PATCH("/api/groups/{group_id}/users", {
            params: { path: { group_id: groupId } },
            body: { userID: String(member.id), admin },
          }),
        );
        onChanged(member.id === myId);
      },
      admin
        ? `${member.username} is now a group admin.`
        : `${member.username} is no longer a group admin.`,
    );

  const remove = (member: GroupMember) =>
    action.run(async () => {
      await unwrap(
        api.DELETE("/api/groups/{group_id}/users/{user_id}", {
          params: { path: { group_id: groupId, user_id: member.id ?? 0 } },
        }),
      );
      onChanged(member.id === myId);
    }, `${member.username} was removed from the group.`);

  return (
    <section aria-labelledby="members" className="card">
      <h2 id="members">Members</h2>
      <div className="table-wrap">
        <table className="members-table">
          <caption className="visually-hidden">Members</caption>
          <thead>
            <tr>
              <th scope="col">Username</th>
              <th scope="col">Role</th>
              {canAdmin && <th scope="col">Actions</th>}
            </tr>
          </thead>
          <tbody>
            {sorted.map((member) => (
              <tr key={member.id}>
                <th scope="row">
                  {member.username}
                  {member.id === myId && <span className="muted"> (you)</span>}
                </th>
                <td>
                  {member.admin ? (
                    <span className="badge saved">admin</span>
                  ) : (
                    <span className="muted">member</span>
                  )}
                  {member.can_save === false && <span className="badge">cannot save</span>}
                </td>
                {canAdmin && (
                  <td>
                    <div className="row">
                      <button
                        type="button"
                        className="secondary"
                        disabled={action.busy}
                        aria-label={
                          member.admin
                            ? `Revoke admin rights of ${member.username}`
                            : `Make ${member.username} a group admin`
                        }
                        onClick={() => void setAdmin(member, !member.admin)}
                      >
                        {member.admin ? "Revoke admin" : "Make admin"}
                      </button>
                      <ConfirmButton
                        label={`Remove ${member.username} from the group`}
                        disabled={action.busy}
                        onConfirm={() => void remove(member)}
                      >
                        Remove
                      </ConfirmButton>
                    </div>
                  </td>
                )}
              </tr>
            ))}
          </tbody>
        </table>
      </div>
      <ActionStatus action={action} />
      {canAdmin && (
        <AddMember
          groupId={groupId}
          members={members}
          directory={directory}
          onAdded={() => {
            action.clear();
            onChanged(false);
          }}
        />
      )}
    </section>
  );
}

function AddMember({
  groupId,
  members,
  directory,
  onAdded,
}: {
  groupId: number;
  members: GroupMember[];
  directory: GroupMember[];
  onAdded: () => void;
}) {
  const action = useAction();
  const [who, setWho] = useState("");
  const [admin, setAdmin] = useState(false);
  const listId = useId();
  const errorId = useId();
  const candidates = directory.filter((user) => !members.some((member) => member.id === user.id));

  async function submit(event: FormEvent) {
    event.preventDefault();
    const user = resolveUser(who, directory);
    if ("error" in user) {
      action.fail(user.error);
      return;
    }
    if (members.some((member) => member.id === user.id)) {
      action.fail(`${user.username ?? `User ${user.id}`} is already a member.`);
      return;
    }
    const added = await action.run(
      () =>
        unwrap(
          api.POST("/api/groups/{group_id}/users", {
            params: { path: { group_id: groupId } },
            body: { userID: String(user.id), admin },
          }),
        ),
      `${user.username ?? `User ${user.id}`} was added${admin ? " as a group admin" : ""}.`,
    );
    if (added) {
      setWho("");
      setAdmin(false);
      onAdded();
    }
  }

  return (
    <form className="toolbar add-member" onSubmit={submit} aria-label="Add a member">
      <label>
        Username or user id
        <input
          value={who}
          list={listId}
          autoComplete="off"
          onChange={(event) => setWho(event.target.value)}
          aria-describedby={errorId}
          aria-invalid={action.error ? true : undefined}
        />
        <datalist id={listId}>
          {candidates.map((user) => (
            <option key={user.id} value={user.username} />
          ))}
        </datalist>
      </label>
      <label className="inline">
        <input
          type="checkbox"
          checked={admin}
          onChange={(event) => setAdmin(event.target.checked)}
        />
        Group admin
      </label>
      <button type="submit" disabled={action.busy}>
        {action.busy ? "Adding…" : "Add member"}
      </button>
      <ActionStatus action={action} id={errorId} />
    </form>
  );
}
