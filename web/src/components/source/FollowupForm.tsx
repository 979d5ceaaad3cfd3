// Requesting follow-up on one of the caller's allocations; the payload is the facility's
// parameters, which the API keeps as given (no facility is contacted by skymesh).
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type Allocation, type Instrument, type Schemas, messageOf } from "../../api";
import {
  defaultFollowupForm,
  followupPayload,
  type FollowupErrors,
  type FollowupForm as Form,
} from "../../lib/source";
import { Field } from "./Field";

type Payload = NonNullable<Schemas["skymesh.portal.v1.FollowupRequestBodyJson"]["payload"]>;

type Props = {
  objId: string;
  allocations: Allocation[] | undefined;
  instruments: Instrument[] | undefined;
  onRequested: () => Promise<void>;
};

const allocationName = (allocation: Allocation) =>
  [
    allocation.instrument?.name ?? `instrument ${allocation.instrument_id}`,
    allocation.group?.name,
    allocation.pi ? `PI ${allocation.pi}` : undefined,
    allocation.proposal_id || undefined,
  ]
    .filter(Boolean)
    .join(" · ");

export function FollowupForm({ objId, allocations, instruments, onRequested }: Props) {
  const id = useId();
  const [allocationId, setAllocationId] = useState("");
  const [form, setForm] = useState<Form>(() => defaultFollowupForm());
  const [skipDuplicates, setSkipDuplicates] = useState(true);
  const [errors, setErrors] = useState<FollowupErrors & { allocation?: string }>({});
  const [sending, setSending] = useState(false);
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState<{ text: string; made: boolean }>();

  const allocation = allocations?.find((a) => String(a.id) === allocationId);
  const instrument = instruments?.find((i) => i.id === allocation?.instrument_id);
  const filters = instrument?.filters ?? [];
  const set = <K extends keyof Form>(key: K, value: Form[K]) =>
    setForm((old) => ({ ...old, [key]: value }));

  if (allocations !== undefined && allocations.length === 0) {
    return (
      <p className="muted">
        None of your groups has an allocation: a group admin adds one (Manage allocations) before
        requesting follow-up.
      </p>
    );
  }

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    setDone(undefined);
    const built = followupPayload(form, filters);
    const found: typeof errors = "errors" in built ? { ...built.errors } : {};
    if (!allocation?.id) found.allocation = "Choose an allocation.";
    setErrors(found);
    if (Object.keys(found).length || !("payload" in built) || !allocation?.id) return;
    setSending(true);
    try {
      const posted = await unwrap(
        api.POST("/api/followup_request", {
          body: {
            obj_id: objId,
            allocation_id: allocation.id,
            // The generated type of a free-form JSON object admits no keys: it is one here.
            payload: built.payload as unknown as Payload,
            not_if_duplicates: skipDuplicates,
          },
        }),
      );
      if (posted.ignored) {
        setDone({
          text: `Nothing requested: ${(posted.message ?? "a condition held").replace(/\.+$/, "")}.`,
          made: false,
        });
      } else {
        setDone({
          text: `Requested (${posted.request_status ?? "pending submission"}).`,
          made: true,
        });
        setForm((old) => ({ ...defaultFollowupForm(), filters: old.filters }));
      }
      await onRequested();
    } catch (problem) {
      setFailure(messageOf(problem));
    } finally {
      setSending(false);
    }
  };

  return (
    <form
      className="followup-form subform"
      onSubmit={submit}
      noValidate
      aria-labelledby={`${id}-title`}
    >
      <h3 id={`${id}-title`}>Request follow-up</h3>
      <div className="form-grid">
        <Field label="Allocation" error={errors.allocation}>
          {(control) => (
            <select
              {...control}
              value={allocationId}
              onChange={(event) => setAllocationId(event.target.value)}
              disabled={allocations === undefined}
            >
              <option value="">
                {allocations === undefined ? "Loading…" : "Choose an allocation…"}
              </option>
              {(allocations ?? []).map((a) => (
                <option key={a.id} value={a.id}>
                  {allocationName(a)}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Start date" error={errors.startDate}>
          {(control) => (
            <input
              {...control}
              type="date"
              value={form.startDate}
              onChange={(e) => set("startDate", e.target.value)}
            />
          )}
        </Field>
        <Field label="End date" error={errors.endDate}>
          {(control) => (
            <input
              {...control}
              type="date"
              value={form.endDate}
              onChange={(e) => set("endDate", e.target.value)}
            />
          )}
        </Field>
        <Field label="Priority" error={errors.priority}>
          {(control) => (
            <select
              {...control}
              value={form.priority}
              onChange={(e) => set("priority", e.target.value)}
            >
              {["1", "2", "3", "4", "5"].map((value) => (
                <option key={value} value={value}>
                  {value}
                  {value === "1" ? " (lowest)" : value === "5" ? " (highest)" : ""}
                </option>
              ))}
            </select>
          )}
        </Field>
        <Field label="Exposure time (s)" error={errors.exposureTime}>
          {(control) => (
            <input
              {...control}
              type="number"
              min={1}
              step="any"
              inputMode="decimal"
              value={form.exposureTime}
              onChange={(e) => set("exposureTime", e.target.value)}
            />
          )}
        </Field>
        <Field label="Number of exposures" error={errors.exposureCount}>
          {(control) => (
            <input
              {...control}
              type="number"
              min={1}
              step={1}
              inputMode="numeric"
              value={form.exposureCount}
              onChange={(e) => set("exposureCount", e.target.value)}
            />
          )}
        </Field>
      </div>
      {filters.length > 0 && (
        <fieldset
          className="group-picker"
          aria-describedby={errors.filters ? `${id}-filters-error` : undefined}
        >
          <legend>Filters ({instrument?.name})</legend>
          {filters.map((filter) => (
            <label key={filter} className="inline">
              <input
                type="checkbox"
                checked={form.filters.includes(filter)}
                onChange={(e) =>
                  set(
                    "filters",
                    e.target.checked
                      ? [...form.filters, filter]
                      : form.filters.filter((f) => f !== filter),
                  )
                }
              />
              {filter}
            </label>
          ))}
          {errors.filters && (
            <span id={`${id}-filters-error`} className="field-error" role="alert">
              {errors.filters}
            </span>
          )}
        </fieldset>
      )}
      <Field label="Note to the observer (optional)" className="wide">
        {(control) => (
          <input
            {...control}
            type="text"
            value={form.note}
            onChange={(e) => set("note", e.target.value)}
          />
        )}
      </Field>
      <label className="inline">
        <input
          type="checkbox"
          checked={skipDuplicates}
          onChange={(e) => setSkipDuplicates(e.target.checked)}
        />
        Skip if this allocation already has a live request for this object
      </label>
      <div className="row">
        <button type="submit" disabled={sending || allocations === undefined}>
          {sending ? "Requesting…" : "Request follow-up"}
        </button>
      </div>
      {failure && (
        <p className="field-error" role="alert">
          Request failed: {failure}
        </p>
      )}
      {done && (
        <p className={done.made ? "status ok" : "status"} role="status">
          {done.text}
        </p>
      )}
    </form>
  );
}
