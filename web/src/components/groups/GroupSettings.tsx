// A group admin's edits: name, nickname, description; deleting the group.
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { api, unwrap, type GroupDetail } from "../../api";
import { useSession } from "../../session";
import { ActionStatus } from "./ActionStatus";
import { ConfirmButton } from "./ConfirmButton";
import { useAction } from "./useAction";

export function GroupSettings({ group, onSaved }: { group: GroupDetail; onSaved: () => void }) {
  const navigate = useNavigate();
  const { refresh } = useSession();
  const action = useAction();
  const [name, setName] = useState(group.name ?? "");
  const [nickname, setNickname] = useState(group.nickname ?? "");
  const [description, setDescription] = useState(group.description ?? "");
  const groupId = group.id ?? 0;

  async function save(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) return action.fail("A group needs a name.");
    await action.run(async () => {
      await unwrap(
        api.PUT("/api/groups/{group_id}", {
          params: { path: { group_id: groupId } },
          body: { name: name.trim(), nickname: nickname.trim(), description: description.trim() },
        }),
      );
      onSaved();
    }, "Saved.");
  }

  const remove = () =>
    action.run(async () => {
      await unwrap(
        api.DELETE("/api/groups/{group_id}", { params: { path: { group_id: groupId } } }),
      );
      await refresh();
      navigate("/groups");
    });

  return (
    <details className="group-settings">
      <summary>Edit group</summary>
      <form className="stack" onSubmit={save} aria-label="Edit group">
        <label>
          Group name
          <input value={name} onChange={(event) => setName(event.target.value)} required />
        </label>
        <label>
          Group nickname
          <input value={nickname} onChange={(event) => setNickname(event.target.value)} />
        </label>
        <label>
          Group description
          <textarea
            value={description}
            onChange={(event) => setDescription(event.target.value)}
            rows={2}
          />
        </label>
        <div className="row spread">
          <button type="submit" disabled={action.busy}>
            {action.busy ? "Saving…" : "Save group"}
          </button>
          <ConfirmButton
            label={`Delete the group ${group.name}`}
            disabled={action.busy}
            onConfirm={() => void remove()}
          >
            Delete group
          </ConfirmButton>
        </div>
        <ActionStatus action={action} />
      </form>
    </details>
  );
}
