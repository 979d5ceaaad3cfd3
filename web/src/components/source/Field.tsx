// One labelled form control with its help and error. The label is a sibling of the control
// (for/id), not its parent: a parent label's accessible name would take in a select's options
// or an input's value.
import { useId, type ReactNode } from "react";

export type ControlProps = {
  id: string;
  "aria-invalid"?: true;
  "aria-describedby"?: string;
};

type Props = {
  label: string;
  error?: string;
  help?: ReactNode;
  className?: string;
  /** Status under the control (a file's check): announced politely. */
  note?: ReactNode;
  children: (control: ControlProps) => ReactNode;
};

export function Field({ label, error, help, note, className, children }: Props) {
  const id = useId();
  const described = [help ? `${id}-help` : "", error ? `${id}-error` : ""]
    .filter(Boolean)
    .join(" ");
  return (
    <div className={`field ${className ?? ""}`}>
      <label htmlFor={id}>{label}</label>
      {children({
        id,
        ...(error ? { "aria-invalid": true as const } : {}),
        ...(described ? { "aria-describedby": described } : {}),
      })}
      {help && (
        <span id={`${id}-help`} className="muted small-text">
          {help}
        </span>
      )}
      {note}
      {error && (
        <span id={`${id}-error`} className="field-error" role="alert">
          {error}
        </span>
      )}
    </div>
  );
}
