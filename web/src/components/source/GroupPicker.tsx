// Checkboxes of the caller's groups (who may read what is posted).
import type { Group } from "../../api";

type Props = {
  legend: string;
  groups: Group[];
  selected: number[];
  onChange: (ids: number[]) => void;
  error?: string;
  errorId?: string;
};

export function GroupPicker({ legend, groups, selected, onChange, error, errorId }: Props) {
  const toggle = (id: number, on: boolean) =>
    onChange(on ? [...selected, id] : selected.filter((other) => other !== id));
  return (
    <fieldset className="group-picker" aria-describedby={error ? errorId : undefined}>
      <legend>{legend}</legend>
      {groups.length === 0 && <span className="muted">You are in no group.</span>}
      {groups.map((group) => (
        <label key={group.id} className="inline">
          <input
            type="checkbox"
            checked={selected.includes(group.id ?? -1)}
            onChange={(event) => group.id !== undefined && toggle(group.id, event.target.checked)}
          />
          {group.name}
        </label>
      ))}
      {error && (
        <span id={errorId} className="field-error" role="alert">
          {error}
        </span>
      )}
    </fieldset>
  );
}
