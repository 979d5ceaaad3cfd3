// Every field of one alert's candidate, and its ML scores with their model versions.
import { formatAlertValue, type AlertRow } from "../../lib/alerts";

export function AlertDetails({ row }: { row: AlertRow }) {
  const fields = Object.entries(row.candidate)
    .filter(([, value]) => value !== null && value !== undefined)
    .sort(([a], [b]) => a.localeCompare(b));
  return (
    <div className="alert-details">
      {row.scores.length > 0 && (
        <dl className="facts scores" aria-label={`ML scores of alert ${row.candid}`}>
          {row.scores.map((score) => (
            <div key={score.name}>
              <dt>{score.name}</dt>
              <dd className="mono">
                {formatAlertValue(score.value)}{" "}
                {score.version && <span className="muted">({score.version})</span>}
              </dd>
            </div>
          ))}
        </dl>
      )}
      <dl className="candidate-fields" aria-label={`Candidate fields of alert ${row.candid}`}>
        {fields.map(([key, value]) => (
          <div key={key}>
            <dt>{key}</dt>
            <dd className="mono">{formatAlertValue(value)}</dd>
          </div>
        ))}
      </dl>
    </div>
  );
}
