// "Spectra": the object's spectra, plotted and listed, each exported as a file; an ASCII upload.
import { useId, useState } from "react";
import { api, unwrap, type Instrument, type Profile, messageOf } from "../../api";
import { formatNumber, formatUtc } from "../../lib/format";
import { isOwn, mayDo } from "../../lib/source";
import { fluxUnitLabel, wavelengthRange } from "../../lib/spectra";
import { useApi } from "../../useApi";
import { Status } from "../Status";
import { ConfirmButton } from "./ConfirmButton";
import { downloadFromApi } from "./download";
import { SpectraPlot } from "./SpectraPlot";
import { SpectrumUpload } from "./SpectrumUpload";

const FORMATS: [string, string, string][] = [
  ["csv", "CSV", "csv"],
  ["ascii", "ASCII", "txt"],
  ["json", "JSON", "json"],
];

type Props = { objId: string; profile: Profile; instruments: Instrument[] | undefined };

export function SpectraSection({ objId, profile, instruments }: Props) {
  const spectra = useApi(
    () => unwrap(api.GET("/api/sources/{obj_id}/spectra", { params: { path: { obj_id: objId } } })),
    [objId],
  );
  const id = useId();
  const [format, setFormat] = useState("csv");
  const [exporting, setExporting] = useState<number>();
  const [error, setError] = useState<string>();
  const list = spectra.value?.spectra ?? [];

  const exportOne = async (spectrumId: number) => {
    const extension = FORMATS.find(([value]) => value === format)?.[2] ?? format;
    setExporting(spectrumId);
    setError(undefined);
    try {
      await downloadFromApi(
        `/api/spectra/${spectrumId}/export?format=${format}`,
        `${objId}_spectrum_${spectrumId}.${extension}`,
      );
    } catch (failure) {
      setError(`Export of spectrum ${spectrumId} failed: ${messageOf(failure)}`);
    } finally {
      setExporting(undefined);
    }
  };

  return (
    <section className="card source-spectra" aria-labelledby="source-spectra-title">
      <h2 id="source-spectra-title">Spectra</h2>
      {spectra.loading && !spectra.value && <Status loading />}
      {spectra.error && <Status error={spectra.error} />}
      {spectra.value && list.length === 0 && <p className="muted">No spectra.</p>}
      {list.length > 0 && (
        <>
          <SpectraPlot key={list.map((s) => s.id).join(",")} spectra={list} />
          <div className="toolbar">
            <label htmlFor={`${id}-format`}>Export format</label>
            <select
              id={`${id}-format`}
              value={format}
              onChange={(event) => setFormat(event.target.value)}
            >
              {FORMATS.map(([value, name]) => (
                <option key={value} value={value}>
                  {name}
                </option>
              ))}
            </select>
          </div>
          <div className="table-wrap">
            <table>
              <thead>
                <tr>
                  <th scope="col">Observed (UTC)</th>
                  <th scope="col">Instrument</th>
                  <th scope="col">Type, label</th>
                  <th scope="col">Points</th>
                  <th scope="col">λ (Å)</th>
                  <th scope="col">Units</th>
                  <th scope="col">Uploaded by</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {list.map((spectrum) => {
                  const range = wavelengthRange(spectrum.wavelengths);
                  return (
                    <tr key={spectrum.id}>
                      <td className="nowrap">{formatUtc(spectrum.observed_at)}</td>
                      <td>{spectrum.instrument_name ?? "—"}</td>
                      <td>
                        {spectrum.type ?? "source"}
                        {spectrum.label ? `, ${spectrum.label}` : ""}
                      </td>
                      <td className="mono">{spectrum.wavelengths?.length ?? 0}</td>
                      <td className="mono nowrap">
                        {range ? `${formatNumber(range[0], 0)}–${formatNumber(range[1], 0)}` : "—"}
                      </td>
                      <td>{fluxUnitLabel(spectrum.units)}</td>
                      <td>{spectrum.owner?.username ?? "—"}</td>
                      <td className="actions">
                        <button
                          type="button"
                          className="secondary small"
                          aria-label={`Export spectrum ${spectrum.id}`}
                          disabled={exporting !== undefined}
                          onClick={() => spectrum.id !== undefined && exportOne(spectrum.id)}
                        >
                          {exporting === spectrum.id ? "Exporting…" : "Export"}
                        </button>
                        {isOwn(profile, spectrum.owner_id) && mayDo(profile, "Upload data") && (
                          <ConfirmButton
                            label={`Delete spectrum ${spectrum.id}`}
                            onConfirm={async () => {
                              await unwrap(
                                api.DELETE("/api/spectra/{spectrum_id}", {
                                  params: { path: { spectrum_id: spectrum.id as number } },
                                }),
                              );
                              spectra.reload();
                            }}
                          />
                        )}
                      </td>
                    </tr>
                  );
                })}
              </tbody>
            </table>
          </div>
        </>
      )}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {mayDo(profile, "Upload data") ? (
        <SpectrumUpload objId={objId} instruments={instruments} onUploaded={spectra.reload} />
      ) : (
        <p className="muted">Uploading a spectrum needs the “Upload data” permission.</p>
      )}
    </section>
  );
}
