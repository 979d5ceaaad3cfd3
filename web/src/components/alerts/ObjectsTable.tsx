// Objects of the archive, each with its newest alert, opening its alerts on this page.
import { Link } from "react-router-dom";
import { DEFAULT_CONE_RADIUS, jdToIso, writeAlertsState, type ConeObject } from "../../lib/alerts";
import { formatNumber, formatUtc } from "../../lib/format";

type Props = { catalog: string; objects: ConeObject[]; caption: string };

export function ObjectsTable({ catalog, objects, caption }: Props) {
  const distances = objects.some((object) => object.separation !== undefined);
  return (
    <div className="table-wrap">
      <table className="objects-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Object</th>
            {distances && <th scope="col">Distance</th>}
            <th scope="col">Alerts</th>
            <th scope="col">Latest alert (UTC)</th>
            <th scope="col">Latest mag</th>
            <th scope="col">Source</th>
          </tr>
        </thead>
        <tbody>
          {objects.map((object) => {
            const latest = object.latest;
            const search = writeAlertsState({
              catalog,
              id: object.objectId,
              ra: "",
              dec: "",
              radius: DEFAULT_CONE_RADIUS,
            });
            return (
              <tr key={object.objectId}>
                <th scope="row">
                  <Link
                    to={`/alerts?${search}`}
                    className="mono"
                    aria-label={`Alerts of ${object.objectId}`}
                  >
                    {object.objectId}
                  </Link>
                </th>
                {distances && (
                  <td className="mono">
                    {object.separation === undefined
                      ? "—"
                      : `${formatNumber(object.separation, 2)}″`}
                  </td>
                )}
                <td>{object.alerts}</td>
                <td className="nowrap">
                  {latest.jd === undefined ? "—" : formatUtc(jdToIso(latest.jd))}
                </td>
                <td className="mono nowrap">
                  {latest.magpsf === undefined
                    ? "—"
                    : `${formatNumber(latest.magpsf, 2)} ${latest.filter}`}
                </td>
                <td>
                  <Link
                    to={`/source/${encodeURIComponent(object.objectId)}`}
                    aria-label={`Source page of ${object.objectId}`}
                  >
                    source page
                  </Link>
                </td>
              </tr>
            );
          })}
        </tbody>
      </table>
    </div>
  );
}
