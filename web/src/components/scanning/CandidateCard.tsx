// One candidate on the scanning page: cutouts, position, annotations, light curve, actions.
import { Link } from "react-router-dom";
import type { Candidate, Group } from "../../api";
import type { TaxonomyClass } from "../../lib/taxonomy";
import { formatUtc, timeAgo } from "../../lib/format";
import { Annotations } from "../Annotations";
import { Coordinates } from "../Coordinates";
import { LightCurve } from "../LightCurve";
import { Thumbnails } from "../Thumbnails";
import { QuickClassify } from "./QuickClassify";

type Props = {
  candidate: Candidate;
  groups: Group[];
  rejected: boolean;
  classes: TaxonomyClass[];
  onSave: () => void;
  onReject: () => Promise<void>;
  onUnreject: () => Promise<void>;
  onClassify: (classification: string) => Promise<void>;
};

export function CandidateCard(props: Props) {
  const { candidate, groups, rejected, classes } = props;
  const objId = candidate.id as string;
  const saved = candidate.saved_groups ?? [];
  const names = new Map(groups.map((g) => [g.id, g.name]));
  const passing = (candidate.passing_group_ids ?? []).map((id) => names.get(id) ?? `group ${id}`);
  const latest = (candidate.classifications ?? []).at(-1);

  return (
    <article className="card candidate" aria-labelledby={`candidate-${objId}`}>
      <header>
        <h2 id={`candidate-${objId}`}>
          <Link to={`/source/${encodeURIComponent(objId)}`}>{objId}</Link>
        </h2>
        {saved.length > 0 ? (
          <span className="badge saved">saved to {saved.map((g) => g.name).join(", ")}</span>
        ) : (
          <span className="badge">not saved</span>
        )}
        {rejected && <span className="badge rejected">rejected</span>}
        {latest && <span className="badge">{latest.classification}</span>}
        <span className="muted">
          passed {passing.join(", ")} · last detected{" "}
          <time
            dateTime={candidate.last_detected_at ?? undefined}
            title={formatUtc(candidate.last_detected_at)}
          >
            {timeAgo(candidate.last_detected_at)}
          </time>
        </span>
      </header>
      <div>
        <Thumbnails thumbnails={candidate.thumbnails ?? []} objId={objId} />
        <Coordinates
          ra={candidate.ra}
          dec={candidate.dec}
          galLon={candidate.gal_lon}
          galLat={candidate.gal_lat}
        />
      </div>
      <div>
        <h3>Annotations</h3>
        <Annotations annotations={candidate.annotations ?? []} />
      </div>
      <div>
        <h3>Light curve</h3>
        <LightCurve photometry={candidate.photometry ?? []} compact />
        <div className="row actions">
          <button type="button" onClick={props.onSave}>
            Save
          </button>
          {rejected ? (
            <button type="button" className="secondary" onClick={props.onUnreject}>
              Undo reject
            </button>
          ) : (
            <button type="button" className="secondary" onClick={props.onReject}>
              Reject
            </button>
          )}
        </div>
        <QuickClassify classes={classes} onClassify={props.onClassify} />
      </div>
    </article>
  );
}
