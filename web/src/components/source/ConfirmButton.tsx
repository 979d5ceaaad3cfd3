// A destructive action in two steps (press, then confirm), with its progress and error inline.
import { messageOf } from "../../api";
import { useState } from "react";

type Props = {
  /** The accessible name of the first button ("Delete comment"). */
  label: string;
  /** Its visible text (default "Delete"). */
  text?: string;
  busyText?: string;
  onConfirm: () => Promise<void>;
};

export function ConfirmButton({
  label,
  text = "Delete",
  busyText = "Deleting…",
  onConfirm,
}: Props) {
  const [asking, setAsking] = useState(false);
  const [busy, setBusy] = useState(false);
  const [error, setError] = useState<string>();

  const confirm = async () => {
    setBusy(true);
    setError(undefined);
    try {
      await onConfirm();
      setAsking(false);
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  };

  return (
    <span className="confirm">
      {!asking ? (
        <button
          type="button"
          className="secondary small"
          aria-label={label}
          onClick={() => setAsking(true)}
        >
          {text}
        </button>
      ) : (
        <>
          <button
            type="button"
            className="danger small"
            onClick={confirm}
            disabled={busy}
            aria-label={`Confirm: ${label}`}
          >
            {busy ? busyText : "Confirm"}
          </button>
          <button
            type="button"
            className="secondary small"
            onClick={() => setAsking(false)}
            disabled={busy}
          >
            Cancel
          </button>
        </>
      )}
      {error && (
        <span className="field-error" role="alert">
          {error}
        </span>
      )}
    </span>
  );
}
