// A labelled form control with its error under it (outside the label, so that the control's
// accessible name stays its label and the error is read as its description).
import type { ReactNode } from "react";

type Props = {
  id: string;
  label: ReactNode;
  error?: string;
  className?: string;
  children: ReactNode;
};

/** The id, aria-invalid and aria-describedby of a control whose error may show in a Field. */
export function fieldProps(id: string, error: string | undefined) {
  return {
    id,
    "aria-invalid": error ? true : undefined,
    "aria-describedby": error ? `${id}-error` : undefined,
  } as const;
}

export function Field({ id, label, error, className, children }: Props) {
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      {children}
      {error && (
        <span id={`${id}-error`} className="field-error">
          {error}
        </span>
      )}
    </div>
  );
}
