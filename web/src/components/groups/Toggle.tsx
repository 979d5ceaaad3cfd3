// A setting saved as soon as it changes, with "Saving…" and then a confirmation or the error.
import { useEffect, useState, type ReactNode } from "react";
import { ActionStatus } from "./ActionStatus";
import { useAction } from "./useAction";

type Props = {
  label: ReactNode;
  checked: boolean;
  disabled?: boolean;
  hint?: ReactNode;
  /** Saves the new value; resolves once the server has it. */
  save: (next: boolean) => Promise<unknown>;
  /** The confirmation, e.g. "The filter is now active." */
  saved: (next: boolean) => string;
};

export function Toggle({ label, checked, disabled, hint, save, saved }: Props) {
  const action = useAction();
  // While saving, and until the reloaded value arrives, show the value asked for.
  const [pending, setPending] = useState<boolean>();
  useEffect(() => setPending(undefined), [checked]);

  async function change(next: boolean) {
    setPending(next);
    const done = await action.run(
      async () => {
        await save(next);
        return true;
      },
      () => saved(next),
    );
    if (!done) setPending(undefined);
  }

  return (
    <div className="toggle">
      <label className="inline">
        <input
          type="checkbox"
          checked={pending ?? checked}
          disabled={disabled || action.busy}
          onChange={(event) => void change(event.target.checked)}
        />
        {label}
        {action.busy && <span className="muted"> Saving…</span>}
      </label>
      {hint && <p className="hint">{hint}</p>}
      <ActionStatus action={action} />
    </div>
  );
}
