// The sources search: object id, cone, save dates, groups, order and page size.
import { useId, useRef, useState, type FormEvent } from "react";
import type { Group } from "../../api";
import {
  hasErrors,
  PAGE_SIZES,
  readSourcesState,
  SORT_COLUMNS,
  splitPosition,
  validateSources,
  type SourcesErrors,
  type SourcesState,
} from "../../lib/search";
import { IdCheckboxes } from "../IdCheckboxes";
import { ConeFields } from "./ConeFields";
import { Field, fieldProps } from "./Field";

type Props = { groups: Group[]; state: SourcesState; onSearch: (state: SourcesState) => void };

const FIELD_ORDER: (keyof SourcesErrors)[] = ["ra", "dec", "radius", "savedAfter", "savedBefore"];

export function SourceSearchForm({ groups, state, onSearch }: Props) {
  const id = useId();
  const form = useRef<HTMLFormElement>(null);
  const [draft, setDraft] = useState(state);
  // A link with a bad search shows its errors at once.
  const [errors, setErrors] = useState<SourcesErrors>(() => validateSources(state));
  const set = <K extends keyof SourcesState>(key: K, value: SourcesState[K]) => {
    setDraft((current) => ({ ...current, [key]: value }));
    if (key in errors) setErrors((current) => ({ ...current, [key]: undefined }));
  };

  function submit(event: FormEvent) {
    event.preventDefault();
    let next = { ...draft, page: 1 };
    // "hh:mm:ss ±dd:mm:ss" pasted into the RA field fills both.
    const halves = next.ra.trim() && !next.dec.trim() ? splitPosition(next.ra) : undefined;
    if (halves) next = { ...next, ra: halves[0], dec: halves[1] };
    setDraft(next);
    const found = validateSources(next);
    setErrors(found);
    if (hasErrors(found)) {
      const first = FIELD_ORDER.find((key) => found[key]);
      form.current?.querySelector<HTMLInputElement>(`#${CSS.escape(`${id}-${first}`)}`)?.focus();
      return;
    }
    onSearch(next);
  }

  function clear() {
    const empty = readSourcesState(new URLSearchParams());
    setDraft(empty);
    setErrors({});
    onSearch({ ...empty, perPage: draft.perPage });
  }

  const field = (key: keyof SourcesErrors) => fieldProps(`${id}-${key}`, errors[key]);

  return (
    <form
      ref={form}
      className="card source-search"
      onSubmit={submit}
      aria-label="Source search"
      noValidate
    >
      <div className="toolbar">
        <Field id={`${id}-objectId`} label="Object id contains" className="grow">
          <input
            id={`${id}-objectId`}
            value={draft.id}
            placeholder="e.g. ZTF23abjj"
            autoCapitalize="off"
            spellCheck={false}
            onChange={(event) => set("id", event.target.value)}
          />
        </Field>
        <Field
          id={`${id}-savedAfter`}
          label="Saved on or after (UTC)"
          error={errors.savedAfter}
          className="date"
        >
          <input
            {...field("savedAfter")}
            type="date"
            value={draft.savedAfter}
            onChange={(event) => set("savedAfter", event.target.value)}
          />
        </Field>
        <Field
          id={`${id}-savedBefore`}
          label="Saved on or before (UTC)"
          error={errors.savedBefore}
          className="date"
        >
          <input
            {...field("savedBefore")}
            type="date"
            value={draft.savedBefore}
            onChange={(event) => set("savedBefore", event.target.value)}
          />
        </Field>
      </div>
      <fieldset className="cone">
        <legend>Cone search</legend>
        <p className="muted hint">
          RA and Dec in degrees or sexagesimal (RA in hours):{" "}
          <span className="mono">47.1081 8.0839</span> or{" "}
          <span className="mono">03:08:25.97 +08:05:02.1</span>; a whole position may go in RA.
        </p>
        <ConeFields id={id} values={draft} errors={errors} onChange={set} />
      </fieldset>
      {groups.length > 0 && (
        <IdCheckboxes
          legend="Saved to groups (none checked: any of mine)"
          items={groups.map((group) => ({ id: group.id as number, label: group.name }))}
          chosen={draft.groupIds}
          onChange={(groupIds) => set("groupIds", groupIds)}
        />
      )}
      <div className="toolbar">
        <Field id={`${id}-sortBy`} label="Sort by">
          <select
            id={`${id}-sortBy`}
            value={draft.sortBy}
            onChange={(event) => set("sortBy", event.target.value)}
          >
            {SORT_COLUMNS.map(([value, label]) => (
              <option key={value} value={value}>
                {label}
              </option>
            ))}
          </select>
        </Field>
        <Field id={`${id}-sortOrder`} label="Order">
          <select
            id={`${id}-sortOrder`}
            value={draft.sortOrder}
            onChange={(event) => set("sortOrder", event.target.value as SourcesState["sortOrder"])}
          >
            <option value="desc">descending</option>
            <option value="asc">ascending</option>
          </select>
        </Field>
        <Field id={`${id}-perPage`} label="Per page">
          <select
            id={`${id}-perPage`}
            value={draft.perPage}
            onChange={(event) => set("perPage", Number(event.target.value))}
          >
            {PAGE_SIZES.map((n) => (
              <option key={n} value={n}>
                {n}
              </option>
            ))}
          </select>
        </Field>
        <div className="row actions">
          <button type="submit">Search</button>
          <button type="button" className="secondary" onClick={clear}>
            Clear
          </button>
        </div>
      </div>
    </form>
  );
}
