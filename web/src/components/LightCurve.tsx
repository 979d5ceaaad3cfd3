// A light curve with magnitude/flux and binning controls.
import { useEffect, useId, useMemo, useState } from "react";
import type { Photometry } from "../api";
import { lightCurveLayout, lightCurveTraces, type Space } from "../lib/lightcurve";
import { binPoints, toPoints, type Point } from "../lib/photometry";
import { Plot } from "./Plot";

const BINS: [number, string][] = [
  [0, "none"],
  [1, "1 d"],
  [3, "3 d"],
  [7, "7 d"],
];

type Props = {
  photometry: Photometry[];
  compact?: boolean;
  /** The points as drawn, for a table or an export next to the plot. */
  onPoints?: (points: Point[]) => void;
};

export function LightCurve({ photometry, compact = false, onPoints }: Props) {
  const [space, setSpace] = useState<Space>("mag");
  const [binDays, setBinDays] = useState(0);
  const id = useId();
  const points = useMemo(() => binPoints(toPoints(photometry), binDays), [photometry, binDays]);
  const traces = useMemo(() => lightCurveTraces(points, space), [points, space]);
  const layout = useMemo(() => lightCurveLayout(space, compact), [space, compact]);
  useEffect(() => onPoints?.(points), [onPoints, points]);

  if (points.length === 0) return <p className="muted">No photometry.</p>;
  return (
    <div className="light-curve" data-points={points.length}>
      {!compact && (
        <div className="controls" role="group" aria-label="Light curve options">
          <label htmlFor={`${id}-space`}>Plot</label>
          <select
            id={`${id}-space`}
            value={space}
            onChange={(e) => setSpace(e.target.value as Space)}
          >
            <option value="mag">magnitude</option>
            <option value="flux">flux (µJy)</option>
          </select>
          <label htmlFor={`${id}-bin`}>Bin</label>
          <select
            id={`${id}-bin`}
            value={binDays}
            onChange={(e) => setBinDays(Number(e.target.value))}
          >
            {BINS.map(([days, label]) => (
              <option key={days} value={days}>
                {label}
              </option>
            ))}
          </select>
        </div>
      )}
      <Plot data={traces} layout={layout} label={`Light curve, ${points.length} points`} />
    </div>
  );
}
