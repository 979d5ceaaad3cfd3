// Renaming a filter (SkyPortal's PATCH /api/filters/{id}) and deleting it with its versions.
import { useState, type FormEvent } from "react";
import { useNavigate } from "react-router-dom";
import { api, unwrap } from "../../api";
import type { FilterDoc } from "../../lib/filters";
import { ActionStatus } from "./ActionStatus";
import { ConfirmButton } from "./ConfirmButton";
import { useAction } from "./useAction";

export function FilterAdmin({ filter, onSaved }: { filter: FilterDoc; onSaved: () => void }) {
  const navigate = useNavigate();
  const action = useAction();
  const [name, setName] = useState(filter.name);

  async function rename(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) return action.fail("A filter needs a name.");
    await action.run(async () => {
      await unwrap(
        api.PATCH("/api/filters/{filter_id}", {
          params: { path: { filter_id: filter.id } },
          body: { name: name.trim() },
        }),
      );
      onSaved();
    }, "Renamed. Annotations posted from now on name the filter this way.");
  }

  const remove = () =>
    action.run(async () => {
      await unwrap(
        api.DELETE("/api/filters/{filter_id}", { params: { path: { filter_id: filter.id } } }),
      );
      navigate(`/group/${filter.group_id}`);
    });

  return (
    <details className="filter-admin">
      <summary>Rename or delete the filter</summary>
      <form className="toolbar" onSubmit={rename} aria-label="Rename the filter">
        <label>
          Filter name
          <input value={name} onChange={(event) => setName(event.target.value)} required />
        </label>
        <button
          type="submit"
          className="secondary"
          disabled={action.busy || name.trim() === filter.name}
        >
          {action.busy ? "Saving…" : "Rename filter"}
        </button>
        <ConfirmButton
          label={`Delete the filter ${filter.name} and its versions`}
          disabled={action.busy}
          onConfirm={() => void remove()}
        >
          Delete filter
        </ConfirmButton>
      </form>
      <ActionStatus action={action} />
    </details>
  );
}
