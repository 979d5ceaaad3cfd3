// The objects whose alerts fall in a cone, nearest first, each opening its alerts.
import { Link } from "react-router-dom";
import { DEFAULT_CONE_RADIUS, jdToIso, MAX_CONE_ALERTS, writeAlertsState, type ConeObject } from "../../lib/alerts";
import { formatNumber, formatUtc } from "../../lib/format";

type Props = { catalog: string; objects: ConeObject[]; alerts: number; radius: number };

export function ConeResults({ catalog, objects, alerts, radius }: Props) {
  if (objects.length === 0) {
    return (
      <p className="muted empty">
        No alert in {catalog} within {radius}″ that you can read. Try a wider radius or another survey.
      </p>
    );
  }
  return (
    <>
      <p role="status">
        {objects.length} object{objects.length === 1 ? "" : "s"} with {alerts} alert{alerts === 1 ? "" : "s"} within{" "}
        {radius}″{alerts >= MAX_CONE_ALERTS ? ` (the newest ${MAX_CONE_ALERTS} alerts: narrow the cone to see all)` : ""}.
      </p>
      <div className="table-wrap">
        <table className="cone-table">
          <caption className="visually-hidden">Objects in the cone</caption>
          <thead>
            <tr>
              <th scope="col">Object</th>
              <th scope="col">Distance</th>
              <th scope="col">Alerts</th>
              <th scope="col">Latest alert (UTC)</th>
              <th scope="col">Latest mag</th>
              <th scope="col">Source</th>
            </tr>
          </thead>
          <tbody>
            {objects.map((object) => {
              const latest = object.latest;
              const to = `/alerts?${writeAlertsState({ catalog, id: object.objectId, ra: "", dec: "", radius: DEFAULT_CONE_RADIUS })}`;
              return (
                <tr key={object.objectId}>
                  <th scope="row">
                    <Link to={to} className="mono" aria-label={`Alerts of ${object.objectId}`}>
                      {object.objectId}
                    </Link>
                  </th>
                  <td className="mono">{object.separation === undefined ? "—" : `${formatNumber(object.separation, 2)}″`}</td>
                  <td>{object.alerts}</td>
                  <td className="nowrap">{latest.jd === undefined ? "—" : formatUtc(jdToIso(latest.jd))}</td>
                  <td className="mono nowrap">
                    {latest.magpsf === undefined ? "—" : `${formatNumber(latest.magpsf, 2)} ${latest.filter}`}
                  </td>
                  <td>
                    <Link to={`/source/${encodeURIComponent(object.objectId)}`} aria-label={`Source page of ${object.objectId}`}>
                      source page
                    </Link>
                  </td>
                </tr>
              );
            })}
          </tbody>
        </table>
      </div>
    </>
  );
}
