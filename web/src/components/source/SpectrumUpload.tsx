// Uploading an ASCII spectrum: the file is checked (POST /api/spectra/parse/ascii) as soon as it
// is chosen, then saved with the file itself (POST /api/spectra/ascii).
import { useEffect, useId, useState, type FormEvent } from "react";
import { api, unwrap, type Instrument, messageOf } from "../../api";
import { formatNumber } from "../../lib/format";
import { observedAtFromHeader, wavelengthRange } from "../../lib/spectra";
import { Field } from "./Field";

/** The API refuses larger files; say so before sending one. */
const MAX_BYTES = 10 * 1024 * 1024;
const TYPES = ["source", "host", "host_center"];

type Preview = { points: number; range?: [number, number]; headerKeys: number; errors: boolean };
type Field = "file" | "instrument" | "observedAt" | "columns";

type Props = { objId: string; instruments: Instrument[] | undefined; onUploaded: () => void };

const column = (text: string): number | undefined => {
  if (!text.trim()) return undefined;
  const value = Number(text);
  return Number.isInteger(value) && value >= 0 ? value : Number.NaN;
};

export function SpectrumUpload({ objId, instruments, onUploaded }: Props) {
  const id = useId();
  const [file, setFile] = useState<File>();
  const [text, setText] = useState("");
  const [fileKey, setFileKey] = useState(0);
  const [instrumentId, setInstrumentId] = useState("");
  const [observedAt, setObservedAt] = useState("");
  const [fromHeader, setFromHeader] = useState(false);
  const [waveColumn, setWaveColumn] = useState("0");
  const [fluxColumn, setFluxColumn] = useState("1");
  const [errorColumn, setErrorColumn] = useState("");
  const [units, setUnits] = useState("");
  const [label, setLabel] = useState("");
  const [type, setType] = useState("source");
  const [preview, setPreview] = useState<Preview>();
  const [checking, setChecking] = useState(false);
  const [errors, setErrors] = useState<Partial<Record<Field, string>>>({});
  const [submitting, setSubmitting] = useState(false);
  const [failure, setFailure] = useState<string>();
  const [done, setDone] = useState<string>();

  const columns = {
    wave: column(waveColumn),
    flux: column(fluxColumn),
    error: column(errorColumn),
  };
  const columnsValid =
    columns.wave !== undefined &&
    columns.flux !== undefined &&
    [columns.wave, columns.flux, columns.error].every(
      (value) => value === undefined || !Number.isNaN(value),
    );

  // Check the file (and the columns asked for) with the API's own parser as they change.
  useEffect(() => {
    if (!text || !columnsValid) {
      setPreview(undefined);
      return;
    }
    let cancelled = false;
    setChecking(true);
    unwrap(
      api.POST("/api/spectra/parse/ascii", {
        body: {
          ascii: text,
          wave_column: columns.wave,
          flux_column: columns.flux,
          fluxerr_column: columns.error,
        },
      }),
    ).then(
      (parsed) => {
        if (cancelled) return;
        setChecking(false);
        setPreview({
          points: parsed.wavelengths?.length ?? 0,
          range: wavelengthRange(parsed.wavelengths),
          headerKeys: Object.keys(parsed.altdata ?? {}).length,
          errors: Array.isArray(parsed.errors),
        });
        setErrors((old) => ({ ...old, file: undefined }));
        const when = observedAtFromHeader(parsed.altdata as Record<string, unknown> | undefined);
        // The header's time fills an empty field, never one the user typed.
        if (when && !observedAt) {
          setObservedAt(when);
          setFromHeader(true);
        }
      },
      (problem: unknown) => {
        if (cancelled) return;
        setChecking(false);
        setPreview(undefined);
        setErrors((old) => ({ ...old, file: messageOf(problem) }));
      },
    );
    return () => {
      cancelled = true;
    };
    // eslint-disable-next-line react-hooks/exhaustive-deps
  }, [text, columnsValid, columns.wave, columns.flux, columns.error]);

  const choose = async (chosen: File | undefined) => {
    setDone(undefined);
    setFile(chosen);
    setText("");
    if (fromHeader) setObservedAt(""); // the previous file's time
    setFromHeader(false);
    if (!chosen) return;
    if (chosen.size > MAX_BYTES) {
      setErrors((old) => ({ ...old, file: "The file is larger than 10 MB." }));
      return;
    }
    setErrors((old) => ({ ...old, file: undefined }));
    setText(await chosen.text());
  };

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    setDone(undefined);
    const found: Partial<Record<Field, string>> = {};
    if (!file) found.file = "Choose the spectrum's file.";
    else if (errors.file) found.file = errors.file;
    if (!instrumentId) found.instrument = "Choose the instrument that took it.";
    if (!observedAt) found.observedAt = "Give the time of the observation (UTC).";
    if (!columnsValid)
      found.columns = "Columns are numbered from 0: wavelength and flux are required.";
    setErrors(found);
    if (Object.values(found).some(Boolean) || !file) return;
    setSubmitting(true);
    try {
      const posted = await unwrap(
        api.POST("/api/spectra/ascii", {
          body: {
            ascii: text,
            filename: file.name,
            obj_id: objId,
            instrument_id: Number(instrumentId),
            observed_at: observedAt.length === 16 ? `${observedAt}:00` : observedAt,
            wave_column: columns.wave,
            flux_column: columns.flux,
            fluxerr_column: columns.error,
            type,
            ...(units.trim() ? { units: units.trim() } : {}),
            ...(label.trim() ? { label: label.trim() } : {}),
          },
        }),
      );
      setDone(`Uploaded ${file.name} as spectrum ${posted.id}.`);
      setFile(undefined);
      setText("");
      setFileKey((key) => key + 1);
      setObservedAt("");
      setFromHeader(false);
      setLabel("");
      onUploaded();
    } catch (problem) {
      setFailure(messageOf(problem));
    } finally {
      setSubmitting(false);
    }
  };

  const spectrographs = (instruments ?? []).filter((i) => (i.type ?? "").includes("spectrograph"));
  const others = (instruments ?? []).filter((i) => !(i.type ?? "").includes("spectrograph"));
  const columnProps = { type: "number", min: 0, step: 1, inputMode: "numeric" } as const;

  return (
    <form
      className="spectrum-upload subform"
      onSubmit={submit}
      noValidate
      aria-labelledby={`${id}-title`}
    >
      <h3 id={`${id}-title`}>Upload a spectrum</h3>
      <div className="form-grid">
        <Field
          label="Spectrum file (ASCII)"
          error={errors.file}
          help="“#” header lines, then columns of wavelength (Å), flux and optionally its error."
          note={
            checking ? (
              <span className="muted" role="status">
                Checking the file…
              </span>
            ) : (
              preview &&
              !errors.file && (
                <span className="status ok" role="status">
                  {preview.points} points
                  {preview.range &&
                    `, ${formatNumber(preview.range[0], 0)}–${formatNumber(preview.range[1], 0)} Å`}
                  {preview.errors ? ", with errors" : ""}
                  {preview.headerKeys ? `, ${preview.headerKeys} header keys` : ""}
                </span>
              )
            )
          }
        >
          {(control) => (
            <input
              {...control}
              key={fileKey}
              type="file"
              accept=".txt,.ascii,.asc,.dat,.csv,.spec,.flm,text/plain,text/csv"
              onChange={(event) => void choose(event.target.files?.[0])}
            />
          )}
        </Field>
        <Field label="Instrument" error={errors.instrument}>
          {(control) => (
            <select
              {...control}
              value={instrumentId}
              onChange={(event) => setInstrumentId(event.target.value)}
            >
              <option value="">Choose an instrument…</option>
              {spectrographs.length > 0 && (
                <optgroup label="Spectrographs">
                  {spectrographs.map((instrument) => (
                    <option key={instrument.id} value={instrument.id}>
                      {instrument.name}
                    </option>
                  ))}
                </optgroup>
              )}
              {others.length > 0 && (
                <optgroup label={spectrographs.length ? "Other instruments" : "Instruments"}>
                  {others.map((instrument) => (
                    <option key={instrument.id} value={instrument.id}>
                      {instrument.name} ({instrument.type ?? "instrument"})
                    </option>
                  ))}
                </optgroup>
              )}
            </select>
          )}
        </Field>
        <Field
          label="Observed at (UTC)"
          error={errors.observedAt}
          note={
            fromHeader &&
            observedAt && <span className="muted small-text">From the file's header.</span>
          }
        >
          {(control) => (
            <input
              {...control}
              type="datetime-local"
              step={1}
              value={observedAt}
              onChange={(event) => {
                setObservedAt(event.target.value);
                setFromHeader(false);
              }}
            />
          )}
        </Field>
        <Field label="Type">
          {(control) => (
            <select {...control} value={type} onChange={(event) => setType(event.target.value)}>
              {TYPES.map((value) => (
                <option key={value} value={value}>
                  {value.replace("_", " ")}
                </option>
              ))}
            </select>
          )}
        </Field>
      </div>
      <details open={errors.columns ? true : undefined}>
        <summary>Columns, units and label</summary>
        <div className="form-grid">
          <Field label="Wavelength column" error={errors.columns}>
            {(control) => (
              <input
                {...control}
                {...columnProps}
                value={waveColumn}
                onChange={(e) => setWaveColumn(e.target.value)}
              />
            )}
          </Field>
          <Field label="Flux column">
            {(control) => (
              <input
                {...control}
                {...columnProps}
                value={fluxColumn}
                onChange={(e) => setFluxColumn(e.target.value)}
              />
            )}
          </Field>
          <Field label="Flux error column (optional)">
            {(control) => (
              <input
                {...control}
                {...columnProps}
                value={errorColumn}
                onChange={(e) => setErrorColumn(e.target.value)}
              />
            )}
          </Field>
          <Field label="Flux units">
            {(control) => (
              <input
                {...control}
                type="text"
                value={units}
                placeholder="erg/s/cm2/A"
                onChange={(e) => setUnits(e.target.value)}
              />
            )}
          </Field>
          <Field label="Label">
            {(control) => (
              <input
                {...control}
                type="text"
                value={label}
                onChange={(e) => setLabel(e.target.value)}
              />
            )}
          </Field>
        </div>
      </details>
      <div className="row">
        <button type="submit" disabled={submitting}>
          {submitting ? "Uploading…" : "Upload spectrum"}
        </button>
        {instruments !== undefined && instruments.length === 0 && (
          <span className="muted">No instrument is defined: an admin adds one first.</span>
        )}
      </div>
      {failure && (
        <p className="field-error" role="alert">
          Upload failed: {failure}
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
