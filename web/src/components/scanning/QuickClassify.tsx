// One-step classification of a candidate with a class of the portal's latest taxonomy. The
import { messageOf } from "../../api";
// classes come from one <datalist> per page (TaxonomyClasses): a select per card would put
// the whole tree into the page once per candidate.
import { useId, useState, type FormEvent } from "react";
import type { TaxonomyClass } from "../../lib/taxonomy";

export const CLASSES_LIST_ID = "taxonomy-classes";

/** The page's one list of classes, for every card's quick-classify field. */
export function TaxonomyClasses({ classes }: { classes: TaxonomyClass[] }) {
  return (
    <datalist id={CLASSES_LIST_ID}>
      {classes.map((entry) => (
        <option key={entry.name} value={entry.name} />
      ))}
    </datalist>
  );
}

type Props = { classes: TaxonomyClass[]; onClassify: (classification: string) => Promise<void> };

export function QuickClassify({ classes, onClassify }: Props) {
  const id = useId();
  const [choice, setChoice] = useState("");
  const [state, setState] = useState<{ busy?: boolean; error?: string; done?: string }>({});
  if (classes.length === 0) return null;

  async function classify(event: FormEvent) {
    event.preventDefault();
    const name = choice.trim();
    if (!classes.some((entry) => entry.name === name)) {
      setState({ error: `“${name}” is not a class of the taxonomy: pick one from the list.` });
      return;
    }
    setState({ busy: true });
    try {
      await onClassify(name);
      setState({ done: `Classified as ${name}` });
      setChoice("");
    } catch (failure) {
      setState({ error: messageOf(failure) });
    }
  }

  return (
    <form className="quick-classify" onSubmit={classify}>
      <label htmlFor={id}>Quick classify</label>
      <div className="row">
        <input
          id={id}
          list={CLASSES_LIST_ID}
          value={choice}
          placeholder="type a class, e.g. Ia"
          autoComplete="off"
          onChange={(event) => {
            setChoice(event.target.value);
            setState({});
          }}
        />
        <button type="submit" className="secondary" disabled={!choice.trim() || state.busy}>
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
    </form>
  );
}
