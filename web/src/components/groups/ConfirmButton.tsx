// A destructive button that asks once more in place (no modal): "Remove" -> "Confirm" / "Cancel".
import { useEffect, useRef, useState } from "react";

type Props = {
  /** The visible text, e.g. "Remove". */
  children: string;
  /** The accessible name, e.g. "Remove gh-tester from the group". */
  label: string;
  onConfirm: () => void;
  disabled?: boolean;
};

export function ConfirmButton({ children, label, onConfirm, disabled }: Props) {
  const [asking, setAsking] = useState(false);
  const confirm = useRef<HTMLButtonElement>(null);
  useEffect(() => {
    if (asking) confirm.current?.focus();
  }, [asking]);

  if (!asking) {
    return (
      <button
        type="button"
        className="secondary"
        aria-label={label}
        disabled={disabled}
        onClick={() => setAsking(true)}
      >
        {children}
      </button>
    );
  }
  return (
    <span className="row confirm">
      <button
        ref={confirm}
        type="button"
        className="danger"
        aria-label={`Confirm: ${label}`}
        onClick={() => {
          setAsking(false);
          onConfirm();
        }}
      >
        Confirm
      </button>
      <button type="button" className="secondary" onClick={() => setAsking(false)}>
        Cancel
      </button>
    </span>
  );
}
