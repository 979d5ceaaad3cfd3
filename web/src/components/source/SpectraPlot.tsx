// Flux against wavelength, one line per spectrum, normalised on demand.
import { useId, useMemo, useState } from "react";
import type { Spectrum } from "../../api";
import { fluxAxisLabel, spectrumLayout, spectrumTraces } from "../../lib/spectra";
import { Plot } from "../Plot";

export function SpectraPlot({ spectra }: { spectra: Spectrum[] }) {
  const id = useId();
  // Several spectra overlay only when normalised; one keeps its own units.
  const [normalised, setNormalised] = useState(spectra.length > 1);
  const traces = useMemo(() => spectrumTraces(spectra, normalised), [spectra, normalised]);
  const layout = useMemo(
    () => spectrumLayout(fluxAxisLabel(spectra, normalised)),
    [spectra, normalised],
  );
  return (
    <div className="spectra-plot">
      <div className="controls">
        <label className="inline" htmlFor={`${id}-normalise`}>
          <input
            id={`${id}-normalise`}
            type="checkbox"
            checked={normalised}
            onChange={(event) => setNormalised(event.target.checked)}
          />
          Normalise (divide each by its median flux)
        </label>
      </div>
      <Plot data={traces} layout={layout} label={`Spectra, ${spectra.length} shown`} />
    </div>
  );
}
