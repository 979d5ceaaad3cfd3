// One-click classification of a candidate with a class of the portal's latest taxonomy.
import { useId, useState } from "react";
import type { Schemas } from "../../api";
import { classOptionLabel, flattenHierarchy } from "../../lib/taxonomy";

type Taxonomy = Schemas["skymesh.portal.v1.TaxonomyJson"];
type Props = { taxonomy?: Taxonomy; onClassify: (classification: string) => Promise<void> };

export function QuickClassify({ taxonomy, onClassify }: Props) {
  const id = useId();
  const [choice, setChoice] = useState("");
  const [state, setState] = useState<{ busy?: boolean; error?: string; done?: string }>({});
  if (!taxonomy) return null;
  const classes = flattenHierarchy(taxonomy.hierarchy);

  async function classify() {
    if (!choice) return;
    setState({ busy: true });
    try {
      await onClassify(choice);
      setState({ done: `Classified as ${choice}` });
    } catch (failure) {
      setState({ error: failure instanceof Error ? failure.message : String(failure) });
    }
  }

  return (
    <div className="quick-classify">
      <label htmlFor={id}>Quick classify</label>
      <div className="row">
        <select id={id} value={choice} onChange={(event) => setChoice(event.target.value)}>
          <option value="">choose a class…</option>
          {classes.map((entry) => (
            <option key={entry.name} value={entry.name}>
              {classOptionLabel(entry)}
            </option>
          ))}
        </select>
        <button type="button" className="secondary" disabled={!choice || state.busy} onClick={classify}>
          {state.busy ? "Classifying…" : "Classify"}
        </button>
      </div>
      {state.error && (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      )}
      {state.done && (
        <p className="muted" role="status">
          {state.done}
        </p>
      )}
    </div>
  );
}
