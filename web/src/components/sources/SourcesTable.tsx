// The saved sources of one page: cutout, id, position, groups, save date, classification.
import { Link } from "react-router-dom";
import type { SourceEntry } from "../../api";
import {
  formatDec,
  formatDegrees,
  formatNumber,
  formatRa,
  formatUtc,
  parseUtc,
  timeAgo,
} from "../../lib/format";
import { lastSaved, latestClassification } from "../../lib/search";
import { SourceStamp } from "./SourceStamp";

export function SourcesTable({ sources }: { sources: SourceEntry[] }) {
  return (
    <div className="table-wrap">
      <table className="sources-table">
        <caption className="visually-hidden">Saved sources</caption>
        <thead>
          <tr>
            <th scope="col" className="stamp-col">
              <span className="visually-hidden">Cutout</span>
            </th>
            <th scope="col">Object</th>
            <th scope="col">RA, Dec</th>
            <th scope="col">Saved to</th>
            <th scope="col">Last saved</th>
            <th scope="col">Classification</th>
            <th scope="col">Redshift</th>
          </tr>
        </thead>
        <tbody>
          {sources.map((source) => (
            <SourceRow key={source.id} source={source} />
          ))}
        </tbody>
      </table>
    </div>
  );
}

function SourceRow({ source }: { source: SourceEntry }) {
  const objId = source.id as string;
  const saved = lastSaved(source);
  const classification = latestClassification(source);
  const groups = (source.groups ?? []).filter((group) => !group.requested);
  const invited = (source.groups ?? []).filter((group) => group.requested);
  return (
    <tr>
      <td className="stamp-col">
        <SourceStamp thumbnails={source.thumbnails ?? []} objId={objId} />
      </td>
      <th scope="row">
        <Link to={`/source/${encodeURIComponent(objId)}`} className="mono">
          {objId}
        </Link>
      </th>
      <td>
        {source.ra === null ||
        source.ra === undefined ||
        source.dec === null ||
        source.dec === undefined ? (
          <span className="muted">no position</span>
        ) : (
          <>
            <span className="mono nowrap">
              {formatRa(source.ra)} {formatDec(source.dec)}
            </span>
            <br />
            <span className="mono muted nowrap">
              {formatDegrees(source.ra)} {formatDegrees(source.dec)}
            </span>
          </>
        )}
      </td>
      <td>
        <span className="badges">
          {groups.map((group) => (
            <span
              key={group.id}
              className="badge saved"
              title={`saved ${formatUtc(group.saved_at)}`}
            >
              {group.nickname || group.name}
            </span>
          ))}
          {invited.map((group) => (
            <span key={group.id} className="badge" title="invited, not saved yet">
              {group.nickname || group.name} (invited)
            </span>
          ))}
        </span>
      </td>
      <td>
        {saved ? (
          <time
            dateTime={parseUtc(saved).toISOString()}
            title={formatUtc(saved)}
            className="nowrap"
          >
            {formatUtc(saved).slice(0, 10)}
            <br />
            <span className="muted">{timeAgo(saved)}</span>
          </time>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td>
        {classification ? (
          <span>
            {classification.classification}
            {classification.probability !== null && classification.probability !== undefined && (
              <span className="muted"> ({formatNumber(classification.probability, 2)})</span>
            )}
            {classification.ml && <span className="badge">ML</span>}
          </span>
        ) : (
          <span className="muted">—</span>
        )}
      </td>
      <td className="mono">
        {source.redshift === null || source.redshift === undefined
          ? "—"
          : formatNumber(source.redshift, 4)}
      </td>
    </tr>
  );
}
