// A fieldset of checkboxes choosing ids (groups, filters): the chosen ids in, the new ones out.
import type { ReactNode } from "react";

type Props = {
  legend: string;
  items: { id: number; label: ReactNode }[];
  chosen: number[];
  onChange: (ids: number[]) => void;
};

export function IdCheckboxes({ legend, items, chosen, onChange }: Props) {
  return (
    <fieldset>
      <legend>{legend}</legend>
      <div className="row">
        {items.map(({ id, label }) => (
          <label className="inline" key={id}>
            <input
              type="checkbox"
              checked={chosen.includes(id)}
              onChange={(event) =>
                onChange(event.target.checked ? [...chosen, id] : chosen.filter((c) => c !== id))
              }
            />
            {label}
          </label>
        ))}
      </div>
    </fieldset>
  );
}
