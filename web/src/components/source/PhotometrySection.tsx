// "Photometry": the light curve, its points as a table, and a CSV of them.
import { useCallback, useState } from "react";
import type { Photometry } from "../../api";
import { toCsv, type Point } from "../../lib/photometry";
import { LightCurve } from "../LightCurve";
import { downloadText } from "./download";
import { PhotometryTable } from "./PhotometryTable";

const plural = (count: number, noun: string) => `${count} ${noun}${count === 1 ? "" : "s"}`;

export function PhotometrySection({
  objId,
  photometry,
}: {
  objId: string;
  photometry: Photometry[];
}) {
  const [points, setPoints] = useState<Point[]>([]);
  // LightCurve reports the points it draws (binned or not) after each change.
  const onPoints = useCallback((next: Point[]) => setPoints(next), []);
  const detections = points.filter((point) => point.mag !== undefined).length;

  return (
    <section className="card source-photometry" aria-labelledby="source-photometry-title">
      <h2 id="source-photometry-title">Photometry</h2>
      <LightCurve photometry={photometry} onPoints={onPoints} />
      {points.length > 0 && (
        <>
          <div className="toolbar between">
            <p className="muted">
              {plural(points.length, "point")}: {plural(detections, "detection")},{" "}
              {plural(points.length - detections, "non-detection")} (5σ limits).
            </p>
            <button
              type="button"
              className="secondary"
              onClick={() => downloadText(toCsv(points), `${objId}_photometry.csv`, "text/csv")}
            >
              Export CSV
            </button>
          </div>
          <PhotometryTable points={points} />
        </>
      )}
    </section>
  );
}
