// One object in the alert archive: summary, light curve of its history, alerts, cross-matches.
import { useId, useMemo, useState } from "react";
import { Link } from "react-router-dom";
import { alertRow, historyPhotometry, jdToIso, meanPosition, surveyOf } from "../../lib/alerts";
import { formatNumber, formatUtc } from "../../lib/format";
import { Coordinates } from "../Coordinates";
import { LightCurve } from "../LightCurve";
import { AlertsTable } from "./AlertsTable";
import type { ObjectResult } from "./archive";
import { CrossMatches } from "./CrossMatches";

export function AlertObject({ result }: { result: ObjectResult }) {
  const { catalog, objectId, alerts, aux, auxError, candid } = result;
  const headingId = useId();
  const [forced, setForced] = useState(false);
  const rows = useMemo(() => alerts.map((alert) => alertRow(alert, catalog)), [alerts, catalog]);
  const photometry = useMemo(
    () => historyPhotometry(alerts, aux, catalog, { forced }),
    [alerts, aux, catalog, forced],
  );
  const position = meanPosition(rows);
  const latest = rows.at(-1);
  const jds = rows.map((row) => row.jd).filter((jd): jd is number => jd !== undefined);
  const programs = [
    ...new Set(rows.map((row) => row.programid).filter((p) => p !== undefined)),
  ].sort();
  const survey = surveyOf(catalog);
  const earlier = aux?.[survey.history];
  const forcedPoints = survey.forced ? aux?.[survey.forced] : undefined;
  const history = Array.isArray(earlier) ? earlier.length : 0;
  const forcedCount = Array.isArray(forcedPoints) ? forcedPoints.length : 0;

  return (
    <article className="card alert-object" aria-labelledby={headingId}>
      <header className="alert-object-header">
        <h2 id={headingId}>{objectId}</h2>
        <span className="badge">{catalog}</span>
        <Link to={`/source/${encodeURIComponent(objectId)}`}>Source page of {objectId}</Link>
      </header>
      <div className="grid-2">
        <dl className="facts">
          <dt>Alerts</dt>
          <dd>
            {rows.length}
            {history > 0 && (
              <span className="muted">
                {" "}
                · {history} earlier point{history === 1 ? "" : "s"} (detections, limits) in the
                history
              </span>
            )}
          </dd>
          <dt>First alert</dt>
          <dd>{jds.length ? formatUtc(jdToIso(Math.min(...jds))) : "—"}</dd>
          <dt>Last alert</dt>
          <dd>{jds.length ? formatUtc(jdToIso(Math.max(...jds))) : "—"}</dd>
          <dt>Programs</dt>
          <dd>{programs.length ? programs.join(", ") : "—"}</dd>
          <dt>Brightest</dt>
          <dd className="mono">{brightest(rows)}</dd>
        </dl>
        <div>
          <h3>Mean position</h3>
          <Coordinates
            ra={position?.ra}
            dec={position?.dec}
            galLon={latest?.galLon}
            galLat={latest?.galLat}
          />
        </div>
      </div>

      <section aria-labelledby={`${headingId}-lc`}>
        <h3 id={`${headingId}-lc`}>Light curve</h3>
        {forcedCount > 0 && (
          <label className="inline">
            <input
              type="checkbox"
              checked={forced}
              onChange={(event) => setForced(event.target.checked)}
            />
            Include forced photometry ({forcedCount} epochs)
          </label>
        )}
        <LightCurve photometry={photometry} />
      </section>

      <section aria-labelledby={`${headingId}-alerts`}>
        <h3 id={`${headingId}-alerts`}>Alerts ({rows.length})</h3>
        <AlertsTable rows={rows} highlight={candid} />
      </section>

      <section aria-labelledby={`${headingId}-xmatch`}>
        <h3 id={`${headingId}-xmatch`}>Cross-matches</h3>
        {auxError ? (
          <p className="status" role="status">
            The object's history and cross-matches are not available to you: {auxError}
          </p>
        ) : aux ? (
          <CrossMatches crossMatches={aux.cross_matches} position={position} />
        ) : (
          <p className="muted">The archive holds no history document for this object.</p>
        )}
      </section>
    </article>
  );
}

function brightest(rows: ReturnType<typeof alertRow>[]): string {
  const detected = rows.filter((row) => row.magpsf !== undefined && row.positive);
  if (detected.length === 0) return "—";
  const best = detected.reduce((a, b) => ((a.magpsf as number) <= (b.magpsf as number) ? a : b));
  return `${formatNumber(best.magpsf, 2)} ± ${formatNumber(best.sigmapsf, 2)} (${best.filter})`;
}
