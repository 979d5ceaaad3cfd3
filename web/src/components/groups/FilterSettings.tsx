// A filter's switches (PATCH /api/filters): on/off, autosave with its comment and the groups
// whose saves it respects, and whether a later pass updates the object's annotation.
import { useState, type FormEvent } from "react";
import { api, unwrap, type Group } from "../../api";
import { autosavePatch, type FilterDoc } from "../../lib/filters";
import { byName } from "../../lib/groups";
import { ActionStatus } from "./ActionStatus";
import { Toggle } from "./Toggle";
import { useAction } from "./useAction";

type Patch = { active?: boolean; update_annotations?: boolean; autosave?: unknown };

type Props = {
  filter: FilterDoc;
  canManage: boolean;
  /** Groups an autosave may defer to ("not if already saved to"). */
  groups: Group[];
  onSaved: () => void;
};

export function FilterSettings({ filter, canManage, groups, onSaved }: Props) {
  const hasVersion = filter.versions.length > 0;
  const patch = async (changes: Patch) => {
    await unwrap(api.PATCH("/api/filters", { body: { filter_id: filter.id, ...changes } }));
    onSaved();
  };
  const disabled = !canManage || !hasVersion;

  return (
    <section aria-labelledby="settings" className="card">
      <h2 id="settings">Settings</h2>
      {!hasVersion && <p className="muted">Save a first pipeline below to switch the filter on.</p>}
      <Toggle
        label="Active"
        hint="An active filter runs on every new alert of its stream."
        checked={filter.active}
        disabled={disabled}
        save={(active) => patch({ active })}
        saved={(active) => (active ? "The filter is now active." : "The filter is now inactive.")}
      />
      <Toggle
        label="Update annotations"
        hint="When an object passes again, replace its annotation from this filter with the new one."
        checked={filter.update_annotations}
        disabled={disabled}
        save={(update_annotations) => patch({ update_annotations })}
        saved={(on) =>
          on
            ? "Annotations will be updated on later passes."
            : "Annotations are kept as first posted."
        }
      />
      <Toggle
        label="Autosave"
        hint="Save each passing object as a source of the group."
        checked={filter.autosave.active}
        disabled={disabled}
        save={(active) => patch({ autosave: autosavePatch(filter.autosave, { active }) })}
        saved={(on) => (on ? "Passing objects will be saved to the group." : "Autosave is off.")}
      />
      <AutosaveOptions
        filter={filter}
        groups={groups}
        disabled={disabled}
        save={(autosave) => patch({ autosave })}
      />
    </section>
  );
}

function AutosaveOptions({
  filter,
  groups,
  disabled,
  save,
}: {
  filter: FilterDoc;
  groups: Group[];
  disabled: boolean;
  save: (autosave: unknown) => Promise<void>;
}) {
  const action = useAction();
  const [comment, setComment] = useState(filter.autosave.comment);
  const [ignore, setIgnore] = useState(new Set(filter.autosave.ignore_group_ids));
  const choices = groups.filter((group) => group.id !== filter.group_id).sort(byName);

  async function submit(event: FormEvent) {
    event.preventDefault();
    await action.run(
      () =>
        save(
          autosavePatch(filter.autosave, {
            comment,
            ignore_group_ids: [...ignore].sort((a, b) => a - b),
          }),
        ),
      "Autosave settings saved.",
    );
  }

  return (
    <form className="autosave-options stack" onSubmit={submit} aria-label="Autosave settings">
      <label>
        Autosave comment
        <input
          value={comment}
          onChange={(event) => setComment(event.target.value)}
          disabled={disabled}
          placeholder="none"
        />
        <span className="hint">Posted on each object the filter saves.</span>
      </label>
      {choices.length > 0 && (
        <fieldset disabled={disabled}>
          <legend>Do not autosave objects already saved to</legend>
          <div className="checks">
            {choices.map((group) => (
              <label key={group.id} className="inline">
                <input
                  type="checkbox"
                  checked={ignore.has(group.id ?? -1)}
                  onChange={(event) => {
                    const next = new Set(ignore);
                    if (event.target.checked) next.add(group.id ?? -1);
                    else next.delete(group.id ?? -1);
                    setIgnore(next);
                  }}
                />
                {group.name}
              </label>
            ))}
          </div>
        </fieldset>
      )}
      {"pipeline" in Object(filter.autosave.raw) && (
        <p className="hint">This autosave has its own pipeline; it is kept as is.</p>
      )}
      <div className="row">
        <button type="submit" className="secondary" disabled={disabled || action.busy}>
          {action.busy ? "Saving…" : "Save autosave settings"}
        </button>
      </div>
      <ActionStatus action={action} />
    </form>
  );
}
