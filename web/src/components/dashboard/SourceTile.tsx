// A source in a dashboard list: its new cutout, id, position and latest classification.
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import type { Classification, Thumbnail } from "../../api";
import { formatDec, formatRa } from "../../lib/format";
import { Stamp } from "../Thumbnails";

type Props = {
  objId: string;
  ra?: number | null;
  dec?: number | null;
  thumbnails?: Thumbnail[];
  classifications?: Classification[];
  children?: ReactNode;
};

export function SourceTile({
  objId,
  ra,
  dec,
  thumbnails = [],
  classifications = [],
  children,
}: Props) {
  const stamp = thumbnails.find((t) => t.type === "new") ?? thumbnails[0];
  const latest = classifications.at(-1);
  return (
    <li className="source-tile">
      {stamp ? (
        <Stamp thumbnail={stamp} objId={objId} size={64} />
      ) : (
        <div className="stamp-placeholder small" />
      )}
      <div>
        <Link to={`/source/${encodeURIComponent(objId)}`} className="mono">
          {objId}
        </Link>
        {typeof ra === "number" && typeof dec === "number" && (
          <div className="muted mono small">
            {formatRa(ra)} {formatDec(dec)}
          </div>
        )}
        {latest && <span className="badge">{latest.classification}</span>}
        <div className="small">{children}</div>
      </div>
    </li>
  );
}
