// The light curve's points as a table, sortable by its columns.
import { useState } from "react";
import { formatUtc, mjdToDate } from "../../lib/format";
import { isDetection, type Point } from "../../lib/photometry";
import { sortPoints, type Direction, type PointKey } from "../../lib/source";

const fixed = (value: number | undefined, digits: number) =>
  value === undefined ? "—" : value.toFixed(digits);

type Column = { key: PointKey; label: string };
const SORTABLE: Column[] = [
  { key: "mjd", label: "MJD" },
  { key: "filter", label: "Filter" },
  { key: "mag", label: "Mag" },
  { key: "limit", label: "Limit" },
  { key: "flux", label: "Flux (µJy)" },
  { key: "instrument", label: "Instrument" },
  { key: "origin", label: "Origin" },
];
const label = (key: PointKey) => SORTABLE.find((column) => column.key === key)?.label ?? key;

export function PhotometryTable({ points }: { points: Point[] }) {
  const [key, setKey] = useState<PointKey>("mjd");
  const [direction, setDirection] = useState<Direction>("desc");
  const sorted = sortPoints(points, key, direction);
  const binned = points.some((point) => point.count > 1);

  const sortBy = (next: PointKey) => {
    if (next === key) setDirection(direction === "asc" ? "desc" : "asc");
    else {
      setKey(next);
      setDirection(next === "mjd" ? "desc" : "asc");
    }
  };

  const header = (column: PointKey, extraLabel?: string) => {
    const active = column === key;
    return (
      <th
        scope="col"
        aria-sort={active ? (direction === "asc" ? "ascending" : "descending") : "none"}
      >
        <button type="button" className="sort" onClick={() => sortBy(column)}>
          {extraLabel ?? label(column)}
          <span aria-hidden="true">{active ? (direction === "asc" ? " ▲" : " ▼") : ""}</span>
        </button>
      </th>
    );
  };

  return (
    <div
      className="table-wrap photometry-table"
      tabIndex={0}
      role="region"
      aria-label="Photometry points"
    >
      <table>
        <caption className="visually-hidden">
          Photometry points, sorted by {label(key)}{" "}
          {direction === "asc" ? "ascending" : "descending"}
        </caption>
        <thead>
          <tr>
            {header("mjd")}
            <th scope="col">Date (UTC)</th>
            {header("filter")}
            {header("mag")}
            {header("limit")}
            {header("flux")}
            {header("instrument")}
            {header("origin")}
            {binned && <th scope="col">N</th>}
          </tr>
        </thead>
        <tbody>
          {sorted.map((point, index) => (
            <tr
              key={`${point.mjd}-${point.filter}-${index}`}
              className={isDetection(point) ? undefined : "limit-row"}
            >
              <td className="mono">{point.mjd.toFixed(5)}</td>
              <td className="nowrap">
                {formatUtc(mjdToDate(point.mjd).toISOString()).replace(" UTC", "")}
              </td>
              <td>{point.filter}</td>
              <td className="mono nowrap">
                {isDetection(point) ? (
                  `${fixed(point.mag, 3)} ± ${fixed(point.magerr, 3)}`
                ) : (
                  <span className="muted">non-detection</span>
                )}
              </td>
              <td className="mono nowrap">
                {point.limit === undefined
                  ? "—"
                  : `${isDetection(point) ? "" : "> "}${point.limit.toFixed(2)}`}
              </td>
              <td className="mono nowrap">
                {point.flux === undefined
                  ? "—"
                  : `${fixed(point.flux, 2)} ± ${fixed(point.fluxerr, 2)}`}
              </td>
              <td>{point.instrument || "—"}</td>
              <td>{point.origin || "—"}</td>
              {binned && <td className="mono">{point.count}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
