import { describe, expect, it } from "vitest";
import {
  fluxAxisLabel,
  fluxUnitLabel,
  median,
  normalise,
  observedAtFromHeader,
  spectrumName,
  spectrumTraces,
  wavelengthRange,
  type SpectrumLike,
} from "./spectra";

const spectrum = (id: number, fluxes: number[], units?: string): SpectrumLike => ({
  id,
  wavelengths: fluxes.map((_, i) => 4000 + 10 * i),
  fluxes,
  units,
  observed_at: "2024-01-02T03:04:05",
  instrument_name: "SEDM",
  label: undefined,
  type: "source",
});

describe("normalisation", () => {
  it("takes the median of the finite values", () => {
    expect(median([3, 1, 2])).toBe(2);
    expect(median([4, 1, 3, 2])).toBe(2.5);
    expect(median([Number.NaN, 5])).toBe(5);
    expect(median([])).toBeUndefined();
  });

  it("divides by the median flux", () => {
    expect(normalise([1e-16, 2e-16, 4e-16])).toEqual([0.5, 1, 2]);
  });

  it("keeps gaps and falls back to the largest |flux| for a spectrum around zero", () => {
    expect(normalise([-2, -1, 0, 1, null])).toEqual([-1, -0.5, 0, 0.5, null]);
    expect(normalise([0, 0])).toEqual([0, 0]);
  });
});

describe("units", () => {
  it("reads the usual spellings of F_lambda and F_nu", () => {
    for (const units of ["erg/s/cm2/A", "erg s^-1 cm^-2 Å^-1", "erg/cm^2/s/Angstrom", "FLAM"]) {
      expect(fluxUnitLabel(units)).toBe("F_λ (erg s⁻¹ cm⁻² Å⁻¹)");
    }
    expect(fluxUnitLabel("erg/s/cm2/Hz")).toBe("F_ν (erg s⁻¹ cm⁻² Hz⁻¹)");
    expect(fluxUnitLabel("mJy")).toBe("F_ν (mJy)");
    expect(fluxUnitLabel("uJy")).toBe("F_ν (µJy)");
  });

  it("keeps unknown units as given and says when there are none", () => {
    expect(fluxUnitLabel("counts")).toBe("flux (counts)");
    expect(fluxUnitLabel(undefined)).toBe("flux (arbitrary units)");
    expect(fluxUnitLabel("  ")).toBe("flux (arbitrary units)");
  });

  it("labels the axis by the spectra's one unit, or asks to normalise mixed ones", () => {
    const a = spectrum(1, [1, 2], "erg/s/cm2/A");
    const b = spectrum(2, [1, 2], "erg s-1 cm-2 A-1");
    const c = spectrum(3, [1, 2], "mJy");
    expect(fluxAxisLabel([a, b], false)).toBe("F_λ (erg s⁻¹ cm⁻² Å⁻¹)");
    expect(fluxAxisLabel([a, c], false)).toMatch(/mixed units/);
    expect(fluxAxisLabel([a, c], true)).toBe("normalised flux");
  });
});

describe("traces", () => {
  it("makes one line per spectrum, normalised on demand", () => {
    const traces = spectrumTraces([spectrum(1, [2, 4, 6]), spectrum(2, [1, 1, 1])], true);
    expect(traces).toHaveLength(2);
    expect(traces[0].x).toEqual([4000, 4010, 4020]);
    expect(traces[0].y).toEqual([0.5, 1, 1.5]);
    expect(traces[0].name).toBe("SEDM 2024-01-02 03:04:05");
    expect(traces[0].mode).toBe("lines");
    expect(spectrumTraces([spectrum(1, [2, 4, 6])], false)[0].y).toEqual([2, 4, 6]);
  });

  it("names a spectrum by instrument, time and label", () => {
    expect(spectrumName({ ...spectrum(1, [1]), label: "host" })).toBe(
      "SEDM 2024-01-02 03:04:05 (host)",
    );
  });

  it("gives the wavelength range", () => {
    expect(wavelengthRange([5000, 3500, null, 9000])).toEqual([3500, 9000]);
    expect(wavelengthRange([])).toBeUndefined();
  });
});

describe("the observation time in a file's header", () => {
  it("reads DATE-OBS, with or without a time, and a card's {value, comment}", () => {
    expect(observedAtFromHeader({ "DATE-OBS": "2024-03-04T05:06:07.5" })).toBe(
      "2024-03-04T05:06:07",
    );
    expect(observedAtFromHeader({ date_obs: "2024-03-04" })).toBe("2024-03-04T00:00:00");
    expect(
      observedAtFromHeader({ "DATE-OBS": { value: "2024-03-04T01:00:00+02:00", comment: "x" } }),
    ).toBe("2024-03-03T23:00:00");
  });

  it("falls back to MJD-OBS and gives nothing without either", () => {
    expect(observedAtFromHeader({ "MJD-OBS": 60000.5 })).toBe("2023-02-25T12:00:00");
    expect(observedAtFromHeader({ "MJD-OBS": "60000.5" })).toBe("2023-02-25T12:00:00");
    expect(observedAtFromHeader({ OBJECT: "ZTF" })).toBeUndefined();
    expect(observedAtFromHeader(null)).toBeUndefined();
  });
});
