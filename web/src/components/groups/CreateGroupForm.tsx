// A new group (POST /api/groups): its creator becomes its admin.
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { api, unwrap } from "../../api";
import { useSession } from "../../session";
import { ActionStatus } from "./ActionStatus";
import { useAction } from "./useAction";

export function CreateGroupForm() {
  const navigate = useNavigate();
  const { refresh } = useSession();
  const action = useAction();
  const [name, setName] = useState("");
  const [nickname, setNickname] = useState("");
  const [description, setDescription] = useState("");
  const [isPrivate, setPrivate] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) {
      action.fail("A group needs a name.");
      return;
    }
    const created = await action.run(() =>
      unwrap(
        api.POST("/api/groups", {
          body: {
            name: name.trim(),
            nickname: nickname.trim() || undefined,
            description: description.trim() || undefined,
            private: isPrivate,
          },
        }),
      ),
    );
    if (created?.id !== undefined) {
      // The caller is now a member: the profile's group list feeds other pages.
      await refresh();
      navigate(`/group/${created.id}`);
    }
  }

  return (
    <form className="card stack" onSubmit={submit} aria-labelledby="create-group">
      <h2 id="create-group">Create a group</h2>
      <label>
        Name
        <input
          value={name}
          onChange={(event) => setName(event.target.value)}
          required
          maxLength={200}
        />
      </label>
      <label>
        Nickname
        <input
          value={nickname}
          onChange={(event) => setNickname(event.target.value)}
          maxLength={50}
        />
        <span className="hint">Short name used in annotation origins (group:filter).</span>
      </label>
      <label>
        Description
        <textarea
          value={description}
          onChange={(event) => setDescription(event.target.value)}
          rows={3}
        />
      </label>
      <label className="inline">
        <input
          type="checkbox"
          checked={isPrivate}
          onChange={(event) => setPrivate(event.target.checked)}
        />
        Private (hidden from people outside it)
      </label>
      <div className="row">
        <button type="submit" disabled={action.busy}>
          {action.busy ? "Creating…" : "Create group"}
        </button>
      </div>
      <ActionStatus action={action} />
    </form>
  );
}
