// The page's header: the object's id, position, a favourite toggle and its key facts.
import type { ObjDetail } from "../../api";
import { formatNumber, formatUtc } from "../../lib/format";
import { Coordinates } from "../Coordinates";
import { FavouriteButton } from "./FavouriteButton";

type Props = { obj: ObjDetail; via: "sources" | "candidates" };

export function SourceHeader({ obj, via }: Props) {
  const id = obj.id ?? "";
  const saved = (obj.groups ?? obj.saved_groups ?? []).filter((group) => group.active);
  return (
    <header className="source-header card">
      <div className="source-title">
        <h1 className="mono">{id}</h1>
        {saved.length > 0 ? (
          <span className="badge saved">
            saved to {saved.length === 1 ? saved[0].name : `${saved.length} groups`}
          </span>
        ) : (
          <span className="badge">
            {via === "candidates" || !obj.is_source ? "candidate, not saved" : "not saved"}
          </span>
        )}
        <FavouriteButton objId={id} />
      </div>
      <div className="source-facts">
        <Coordinates
          ra={obj.ra ?? undefined}
          dec={obj.dec ?? undefined}
          galLon={obj.gal_lon ?? undefined}
          galLat={obj.gal_lat ?? undefined}
        />
        <dl className="facts">
          <div>
            <dt>Redshift</dt>
            <dd className="mono">
              {obj.redshift === null || obj.redshift === undefined
                ? "—"
                : formatNumber(obj.redshift, 4)}
            </dd>
          </div>
          {obj.score !== null && obj.score !== undefined && (
            <div>
              <dt title="The real-bogus score of the alert that made it">Score</dt>
              <dd className="mono">{formatNumber(obj.score, 3)}</dd>
            </div>
          )}
          {obj.alias && obj.alias.length > 0 && (
            <div>
              <dt>Aliases</dt>
              <dd className="mono">{obj.alias.join(", ")}</dd>
            </div>
          )}
          <div>
            <dt>First seen</dt>
            <dd>{formatUtc(obj.created_at)}</dd>
          </div>
          {obj.last_detected_at && (
            <div>
              <dt>Last passed</dt>
              <dd>{formatUtc(obj.last_detected_at)}</dd>
            </div>
          )}
        </dl>
      </div>
    </header>
  );
}
