// One small cutout of a source (the newest "new" image), fetched with the caller's token.
import { useEffect, useState } from "react";
import { blobUrl, type Thumbnail } from "../../api";

export function SourceStamp({ thumbnails, objId }: { thumbnails: Thumbnail[]; objId: string }) {
  const stamp = thumbnails.filter((t) => t.type === "new").at(-1);
  const [url, setUrl] = useState<string>();

  useEffect(() => {
    if (stamp?.id === undefined) return;
    let made: string | undefined;
    let cancelled = false;
    blobUrl(`/api/thumbnail/${stamp.id}/image`).then(
      (value) => {
        made = value;
        if (cancelled) URL.revokeObjectURL(value);
        else setUrl(value);
      },
      () => setUrl(undefined),
    );
    return () => {
      cancelled = true;
      if (made) URL.revokeObjectURL(made);
    };
  }, [stamp?.id]);

  if (!stamp) return <span className="source-stamp empty" aria-hidden="true" />;
  return url ? (
    <img className="source-stamp" src={url} alt={`New image of ${objId}`} width={56} height={56} />
  ) : (
    <span className="source-stamp empty" aria-hidden="true" />
  );
}
