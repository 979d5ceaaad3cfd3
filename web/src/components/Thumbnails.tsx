// The cutout triplet (new, reference, difference), fetched with the caller's token.
import { useEffect, useState } from "react";
import { blobUrl, type Thumbnail } from "../api";

const ORDER = ["new", "ref", "sub"];
const LABELS: Record<string, string> = { new: "New", ref: "Reference", sub: "Difference" };

type StampProps = { thumbnail: Thumbnail; objId: string; size?: number };

/** One cutout, fetched with the caller's token. */
export function Stamp({ thumbnail, objId, size }: StampProps) {
  // The stylesheet sizes the usual stamps (smaller on phones); a list's small ones say theirs.
  const box = size ? { width: size, height: size } : undefined;
  const [url, setUrl] = useState<string>();
  const [failed, setFailed] = useState(false);
  useEffect(() => {
    let current: string | undefined;
    let cancelled = false;
    blobUrl(`/api/thumbnail/${thumbnail.id}/image`).then(
      (made) => {
        current = made;
        if (cancelled) URL.revokeObjectURL(made);
        else setUrl(made);
      },
      () => setFailed(true),
    );
    return () => {
      cancelled = true;
      if (current) URL.revokeObjectURL(current);
    };
  }, [thumbnail.id]);
  const label = LABELS[thumbnail.type ?? ""] ?? thumbnail.type ?? "";
  return (
    <figure className="stamp">
      {url ? (
        <img
          src={url}
          alt={`${label} image of ${objId}`}
          width={size ?? 120}
          height={size ?? 120}
          style={box}
        />
      ) : (
        <div className="stamp-placeholder" aria-hidden="true" style={box}>
          {failed ? "unavailable" : ""}
        </div>
      )}
      <figcaption>{label}</figcaption>
    </figure>
  );
}

export function Thumbnails({ thumbnails, objId }: { thumbnails: Thumbnail[]; objId: string }) {
  const sorted = [...thumbnails]
    .filter((t) => ORDER.includes(t.type ?? ""))
    .sort((a, b) => ORDER.indexOf(a.type ?? "") - ORDER.indexOf(b.type ?? ""));
  if (sorted.length === 0) return <p className="muted">No cutouts.</p>;
  return (
    <div className="thumbnails">
      {sorted.map((thumbnail) => (
        <Stamp key={thumbnail.id} thumbnail={thumbnail} objId={objId} />
      ))}
    </div>
  );
}
