// Adding a classification: a class of a taxonomy (its tree flattened), a probability, groups.
import { useId, useMemo, useState, type FormEvent } from "react";
import { api, unwrap, type Group, type Taxonomy, messageOf } from "../../api";
import { parseProbability } from "../../lib/source";
import { classOptionLabel, flattenHierarchy } from "../../lib/taxonomy";
import { Field } from "./Field";
import { GroupPicker } from "./GroupPicker";

type Props = {
  objId: string;
  taxonomies: Taxonomy[] | undefined;
  groups: Group[];
  onAdded: () => Promise<void>;
};

type Errors = { taxonomy?: string; classification?: string; probability?: string; groups?: string };

/** The latest version of each taxonomy first, then the older ones. */
const ordered = (taxonomies: Taxonomy[]) =>
  [...taxonomies].sort(
    (a, b) =>
      Number(b.isLatest ?? false) - Number(a.isLatest ?? false) ||
      (a.name ?? "").localeCompare(b.name ?? ""),
  );

export function ClassificationForm({ objId, taxonomies, groups, onAdded }: Props) {
  const id = useId();
  const list = useMemo(() => ordered(taxonomies ?? []), [taxonomies]);
  const [taxonomyChoice, setTaxonomyChoice] = useState<string>();
  const taxonomyId = taxonomyChoice ?? (list[0]?.id !== undefined ? String(list[0].id) : "");
  const taxonomy = list.find((t) => String(t.id) === taxonomyId);
  const classes = useMemo(() => flattenHierarchy(taxonomy?.hierarchy), [taxonomy]);
  const [search, setSearch] = useState("");
  const [classification, setClassification] = useState("");
  const [probability, setProbability] = useState("1");
  const allIds = groups.map((group) => group.id).filter((gid): gid is number => gid !== undefined);
  const [groupIds, setGroupIds] = useState<number[]>();
  const chosenGroups = groupIds ?? allIds;
  const [errors, setErrors] = useState<Errors>({});
  const [adding, setAdding] = useState(false);
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState<string>();

  const needle = search.trim().toLowerCase();
  const shown = needle
    ? classes.filter(
        (c) =>
          c.name === classification ||
          c.name.toLowerCase().includes(needle) ||
          c.aliases.some((alias) => alias.toLowerCase().includes(needle)),
      )
    : classes;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    setDone(undefined);
    const found: Errors = {};
    if (!taxonomy) found.taxonomy = "Choose a taxonomy.";
    if (!classification || !classes.some((c) => c.name === classification)) {
      found.classification = "Choose a class of the taxonomy.";
    }
    const value = parseProbability(probability);
    if (typeof value === "string") found.probability = value;
    if (chosenGroups.length === 0) found.groups = "Choose at least one group.";
    setErrors(found);
    if (Object.keys(found).length || typeof value === "string" || !taxonomy?.id) return;
    setAdding(true);
    try {
      await unwrap(
        api.POST("/api/classification", {
          body: {
            obj_id: objId,
            classification,
            taxonomy_id: taxonomy.id,
            probability: value,
            group_ids: chosenGroups,
          },
        }),
      );
      setDone(`Classified as ${classification}.`);
      setClassification("");
      setSearch("");
      setProbability("1");
      await onAdded();
    } catch (problem) {
      setFailure(messageOf(problem));
    } finally {
      setAdding(false);
    }
  };

  if (taxonomies !== undefined && taxonomies.length === 0) {
    return (
      <p className="muted">
        No taxonomy is available to your groups: one must be posted before classifying.
      </p>
    );
  }

  return (
    <form
      className="classification-form subform"
      onSubmit={submit}
      noValidate
      aria-labelledby={`${id}-title`}
    >
      <h3 id={`${id}-title`}>Add a classification</h3>
      <div className="form-grid">
        <Field label="Taxonomy" error={errors.taxonomy}>
          {(control) => (
            <select
              {...control}
              value={taxonomyId}
              onChange={(event) => {
                setTaxonomyChoice(event.target.value);
                setClassification("");
              }}
              disabled={taxonomies === undefined}
            >
              {taxonomies === undefined && <option value="">Loading…</option>}
              {list.map((t) => (
                <option key={t.id} value={t.id}>
                  {t.name} {t.version}
                  {t.isLatest ? "" : " (older version)"}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Find a class">
          {(control) => (
            <input
              {...control}
              type="search"
              value={search}
              onChange={(event) => setSearch(event.target.value)}
              placeholder="e.g. Ia, TDE, nova"
            />
          )}
        </Field>
        <Field label="Class" error={errors.classification}>
          {(control) => (
            <select
              {...control}
              value={classification}
              onChange={(event) => setClassification(event.target.value)}
            >
              <option value="">
                {shown.length ? `Choose a class (${shown.length})…` : "No class matches"}
              </option>
              {shown.map((c) => (
                <option key={c.name} value={c.name} title={c.path.join(" › ")}>
                  {needle ? c.name : classOptionLabel(c)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Probability" error={errors.probability}>
          {(control) => (
            <input
              {...control}
              type="number"
              min={0}
              max={1}
              step={0.01}
              inputMode="decimal"
              value={probability}
              onChange={(event) => setProbability(event.target.value)}
            />
          )}
        </Field>
      </div>
      <GroupPicker
        legend="Groups that may read it"
        groups={groups}
        selected={chosenGroups}
        onChange={setGroupIds}
        error={errors.groups}
        errorId={`${id}-groups-error`}
      />
      <div className="row">
        <button type="submit" disabled={adding || taxonomies === undefined}>
          {adding ? "Adding…" : "Add classification"}
        </button>
      </div>
      {failure && (
        <p className="field-error" role="alert">
          Classifying failed: {failure}
        </p>
      )}
      {done && (
        <p className="status ok" role="status">
          {done}
        </p>
      )}
    </form>
  );
}
