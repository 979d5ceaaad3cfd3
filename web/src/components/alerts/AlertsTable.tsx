// An object's alerts, newest first: time, filter, magnitude, ML scores; each opens its fields.
import { Fragment, useState } from "react";
import { jdToIso, scoreColumns, type AlertRow } from "../../lib/alerts";
import { formatNumber, formatUtc } from "../../lib/format";
import { AlertDetails } from "./AlertDetails";

type Props = { rows: AlertRow[]; highlight?: string };

export function AlertsTable({ rows, highlight }: Props) {
  const [open, setOpen] = useState<Set<string>>(() => new Set(highlight ? [highlight] : []));
  const scores = scoreColumns(rows);
  const newestFirst = [...rows].sort((a, b) => (b.jd ?? 0) - (a.jd ?? 0));
  const columns = 6 + scores.length;

  function toggle(candid: string) {
    setOpen((current) => {
      const next = new Set(current);
      if (next.has(candid)) next.delete(candid);
      else next.add(candid);
      return next;
    });
  }

  return (
    <div className="table-wrap">
      <table className="alerts-table">
        <caption className="visually-hidden">Alerts, newest first</caption>
        <thead>
          <tr>
            <th scope="col">candid</th>
            <th scope="col">Date (UTC)</th>
            <th scope="col">Filter</th>
            <th scope="col">magpsf</th>
            <th scope="col">Limit</th>
            {scores.map((name) => (
              <th scope="col" key={name} className="score">
                {name}
              </th>
            ))}
            <th scope="col">
              <span className="visually-hidden">Details</span>
            </th>
          </tr>
        </thead>
        <tbody>
          {newestFirst.map((row) => {
            const expanded = open.has(row.candid);
            const detailsId = `alert-${row.candid}-details`;
            const byName = new Map(row.scores.map((score) => [score.name, score]));
            return (
              <Fragment key={row.candid}>
                <tr className={row.candid === highlight ? "highlight" : undefined}>
                  <th scope="row" className="mono">
                    {row.candid}
                    {row.candid === highlight && <span className="badge">searched</span>}
                  </th>
                  <td className="nowrap">
                    {row.jd === undefined ? "—" : formatUtc(jdToIso(row.jd)).replace(" UTC", "")}
                    <br />
                    <span className="muted mono">MJD {formatNumber(row.mjd, 5)}</span>
                  </td>
                  <td>{row.filter}</td>
                  <td className="mono nowrap">
                    {row.magpsf === undefined ? (
                      "—"
                    ) : (
                      <>
                        {formatNumber(row.magpsf, 2)} ± {formatNumber(row.sigmapsf, 2)}
                        {!row.positive && (
                          <span
                            className="badge rejected"
                            title="negative subtraction: fainter than the reference"
                          >
                            negative
                          </span>
                        )}
                      </>
                    )}
                  </td>
                  <td className="mono">{formatNumber(row.diffmaglim, 2)}</td>
                  {scores.map((name) => {
                    const score = byName.get(name);
                    return (
                      <td
                        key={name}
                        className="mono score"
                        title={score?.version ? `${name} ${score.version}` : undefined}
                      >
                        {score ? formatNumber(score.value, 3) : "—"}
                      </td>
                    );
                  })}
                  <td>
                    <button
                      type="button"
                      className="link"
                      aria-expanded={expanded}
                      aria-controls={expanded ? detailsId : undefined}
                      aria-label={`${expanded ? "Hide" : "Show"} all fields of alert ${row.candid}`}
                      onClick={() => toggle(row.candid)}
                    >
                      {expanded ? "hide" : "all fields"}
                    </button>
                  </td>
                </tr>
                {expanded && (
                  <tr id={detailsId} className="details-row">
                    <td colSpan={columns}>
                      <AlertDetails row={row} />
                    </td>
                  </tr>
                )}
              </Fragment>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
