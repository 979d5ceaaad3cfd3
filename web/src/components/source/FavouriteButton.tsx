// The object in the caller's "favorites" listing, or not: one toggle.
import { useState } from "react";
import { api, unwrap, messageOf } from "../../api";
import { useApi } from "../../useApi";

const LIST = "favorites";

export function FavouriteButton({ objId }: { objId: string }) {
  const listing = useApi(
    () => unwrap(api.GET("/api/listing", { params: { query: { listName: LIST } } })),
    [],
  );
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();
  const entry = listing.value?.find((item) => item.obj_id === objId && item.list_name === LIST);
  const favourite = entry !== undefined;

  const toggle = async () => {
    setBusy(true);
    setError(undefined);
    try {
      if (entry?.id !== undefined) {
        await unwrap(
          api.DELETE("/api/listing/{listing_id}", { params: { path: { listing_id: entry.id } } }),
        );
      } else {
        await unwrap(api.POST("/api/listing", { body: { obj_id: objId, list_name: LIST } }));
      }
      listing.reload();
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  const label = favourite ? "Remove from favourites" : "Add to favourites";
  return (
    <span className="favourite">
      <button
        type="button"
        className={favourite ? "secondary favourite-on" : "secondary"}
        onClick={toggle}
        disabled={busy || listing.loading}
      >
        <span aria-hidden="true">{favourite ? "★ " : "☆ "}</span>
        {label}
      </button>
      {(error ?? listing.error?.message) && (
        <span className="field-error" role="alert">
          {error ?? listing.error?.message}
        </span>
      )}
    </span>
  );
}
