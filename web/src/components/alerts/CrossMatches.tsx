// The object's cross-matches (the aux document's cross_matches): per catalog, the count and the
// nearest rows with their distance.
import { crossMatchSummaries, rowFields, type Json } from "../../lib/alerts";
import { formatNumber, formatValue } from "../../lib/format";
import type { Position } from "../../lib/search";

type Props = { crossMatches: Json | undefined; position?: Position };

export function CrossMatches({ crossMatches, position }: Props) {
  const summaries = crossMatchSummaries(crossMatches, position);
  if (summaries.length === 0) {
    return <p className="muted">No cross-matches were recorded for this object.</p>;
  }
  return (
    <div className="cross-matches">
      <ul className="xmatch-counts" aria-label="Matches per catalog">
        {summaries.map((summary) => (
          <li key={summary.catalog}>
            <span className="mono">{summary.catalog}</span>{" "}
            <span className={summary.count ? "badge saved" : "badge"}>
              {summary.count} match{summary.count === 1 ? "" : "es"}
            </span>
          </li>
        ))}
      </ul>
      {summaries
        .filter((summary) => summary.count > 0)
        .map((summary) => {
          const columns = [
            ...new Set(
              summary.nearest.flatMap((match) => rowFields(match.row).map(([key]) => key)),
            ),
          ];
          return (
            <div className="table-wrap" key={summary.catalog}>
              <table>
                <caption>
                  {summary.catalog}:{" "}
                  {summary.nearest.length < summary.count
                    ? `nearest ${summary.nearest.length} of ${summary.count}`
                    : "all matches"}
                </caption>
                <thead>
                  <tr>
                    <th scope="col">Distance</th>
                    {columns.map((column) => (
                      <th scope="col" key={column}>
                        {column}
                      </th>
                    ))}
                  </tr>
                </thead>
                <tbody>
                  {summary.nearest.map((match, index) => (
                    <tr key={index}>
                      <td className="mono">
                        {match.distance === undefined ? "—" : `${formatNumber(match.distance, 2)}″`}
                      </td>
                      {columns.map((column) => (
                        <td className="mono" key={column}>
                          {formatValue(match.row[column])}
                        </td>
                      ))}
                    </tr>
                  ))}
                </tbody>
              </table>
            </div>
          );
        })}
    </div>
  );
}
