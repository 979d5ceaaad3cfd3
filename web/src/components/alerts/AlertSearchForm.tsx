// The alert archive search: a catalog, then an object id (or a candid) or a cone.
import { useId, useRef, useState, type FormEvent } from "react";
import {
  alertsSearch,
  DEFAULT_CONE_RADIUS,
  type AlertsErrors,
  type AlertsState,
} from "../../lib/alerts";
import { splitPosition } from "../../lib/search";
import { ConeFields } from "../sources/ConeFields";
import { Field, fieldProps } from "../sources/Field";

type Props = {
  catalogs: string[];
  state: AlertsState;
  onSearch: (state: AlertsState) => void;
};

const FIELD_ORDER: (keyof AlertsErrors)[] = ["id", "ra", "dec", "radius"];

export function AlertSearchForm({ catalogs, state, onSearch }: Props) {
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  const [draft, setDraft] = useState(state);
  const [errors, setErrors] = useState<AlertsErrors>(() => alertsSearch(state).errors);
  const set = <K extends keyof AlertsState>(key: K, value: AlertsState[K]) => {
    setDraft((current) => ({ ...current, [key]: value }));
    setErrors((current) => ({ ...current, [key]: undefined, form: undefined }));
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    let next = draft;
    const halves = next.ra.trim() && !next.dec.trim() ? splitPosition(next.ra) : undefined;
    if (halves) next = { ...next, ra: halves[0], dec: halves[1] };
    setDraft(next);
    const { search, errors: found } = alertsSearch(next);
    setErrors(found);
    if (search.kind === "none") {
      if (!Object.values(found).some(Boolean)) {
        // Nothing typed but another survey: show that survey's newest alerts.
        if (next.catalog !== state.catalog) return onSearch(next);
        setErrors({ form: "Enter an object id, an alert's candid, or a position." });
      }
      const first = FIELD_ORDER.find((key) => found[key]) ?? "id";
      form.current?.querySelector<HTMLInputElement>(`#${CSS.escape(`${id}-${first}`)}`)?.focus();
      return;
    }
    onSearch(next);
  }

  function clear() {
    const empty = { catalog: draft.catalog, id: "", ra: "", dec: "", radius: DEFAULT_CONE_RADIUS };
    setDraft(empty);
    setErrors({});
    onSearch(empty);
  }

  const field = (key: keyof AlertsErrors) => fieldProps(`${id}-${key}`, errors[key]);
  const options = catalogs.includes(draft.catalog) ? catalogs : [...catalogs, draft.catalog];

  return (
    <form
      ref={form}
      className="card alert-search"
      onSubmit={submit}
      aria-label="Alert search"
      noValidate
    >
      <div className="toolbar">
        <Field id={`${id}-catalog`} label="Survey">
          <select
            id={`${id}-catalog`}
            value={draft.catalog}
            onChange={(event) => set("catalog", event.target.value)}
          >
            {options.map((catalog) => (
              <option key={catalog} value={catalog}>
                {catalog}
              </option>
            ))}
          </select>
        </Field>
        <Field id={`${id}-id`} label="Object id or candid" error={errors.id} className="grow">
          <input
            {...field("id")}
            value={draft.id}
            placeholder="e.g. ZTF20aajcdad"
            autoCapitalize="off"
            autoComplete="off"
            spellCheck={false}
            onChange={(event) => set("id", event.target.value)}
          />
        </Field>
      </div>
      <fieldset className="cone">
        <legend>…or a cone</legend>
        <p className="muted hint">
          RA and Dec in degrees or sexagesimal (RA in hours), e.g.{" "}
          <span className="mono">04:46:37.87 -10:13:35.0</span>; a whole position may go in RA.
        </p>
        <ConeFields id={id} values={draft} errors={errors} onChange={set} />
      </fieldset>
      {errors.form && (
        <p className="field-error" role="alert">
          {errors.form}
        </p>
      )}
      <div className="row actions">
        <button type="submit">Search alerts</button>
        <button type="button" className="secondary" onClick={clear}>
          Clear
        </button>
      </div>
    </form>
  );
}
