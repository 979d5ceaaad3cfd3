// Save a candidate to groups: a modal checklist preset from the groups whose filters passed it.
import { messageOf } from "../../api";
import { useEffect, useRef, useState, type FormEvent } from "react";
import type { Group } from "../../api";

type Props = {
  objId: string;
  groups: Group[];
  preset: number[];
  onSave: (groupIds: number[]) => Promise<void>;
  onClose: () => void;
};

export function SaveDialog({ objId, groups, preset, onSave, onClose }: Props) {
  const [chosen, setChosen] = useState<number[]>(preset);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);
  const first = useRef<HTMLInputElement>(null);

  useEffect(() => {
    first.current?.focus();
    const onKey = (event: KeyboardEvent) => event.key === "Escape" && onClose();
    window.addEventListener("keydown", onKey);
    return () => window.removeEventListener("keydown", onKey);
  }, [onClose]);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (chosen.length === 0) {
      setError("Choose at least one group.");
      return;
    }
    setBusy(true);
    try {
      await onSave(chosen);
      onClose();
    } catch (failure) {
      setError(messageOf(failure));
      setBusy(false);
    }
  }

  return (
    <div className="dialog" role="dialog" aria-modal="true" aria-labelledby="save-title">
      <form onSubmit={submit}>
        <h2 id="save-title">Save {objId} to groups</h2>
        {groups.map((group, index) => (
          <label className="inline" key={group.id}>
            <input
              ref={index === 0 ? first : undefined}
              type="checkbox"
              checked={chosen.includes(group.id as number)}
              onChange={(event) =>
                setChosen((ids) =>
                  event.target.checked
                    ? [...ids, group.id as number]
                    : ids.filter((id) => id !== group.id),
                )
              }
            />
            {group.name}
          </label>
        ))}
        {error && (
          <p className="field-error" role="alert">
            {error}
          </p>
        )}
        <div className="row">
          <button type="submit" disabled={busy}>
            {busy ? "Saving…" : "Save to selected groups"}
          </button>
          <button type="button" className="secondary" onClick={onClose}>
            Cancel
          </button>
        </div>
      </form>
    </div>
  );
}
