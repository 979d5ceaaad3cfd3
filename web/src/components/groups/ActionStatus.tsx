// What became of a write: the server's error (an alert) or a short confirmation.
import type { Action } from "./useAction";

export function ActionStatus({
  action,
  id,
}: {
  action: Pick<Action, "error" | "notice">;
  id?: string;
}) {
  if (action.error) {
    return (
      <p className="field-error" role="alert" id={id}>
        {action.error}
      </p>
    );
  }
  return (
    <p className="action-notice" role="status" id={id}>
      {action.notice ?? ""}
    </p>
  );
}
