// The pipeline editor: JSON checked as typed (line and column of a mistake), saved as a new
// version (POST /api/filters), the server's verdict on the stages shown under it.
import { useId, useMemo, useRef } from "react";
import { api, unwrap } from "../../api";
import { checkPipeline, formatPipeline, newVersionBody } from "../../lib/filters";
import { ActionStatus } from "./ActionStatus";
import { useAction } from "./useAction";

type Props = {
  filterId: number;
  text: string;
  onChange: (text: string) => void;
  /** The active version's pipeline as the editor shows it ("" without versions). */
  base: string;
  canManage: boolean;
  onSaved: () => void;
};

export function PipelineEditor({ filterId, text, onChange, base, canManage, onSaved }: Props) {
  const action = useAction();
  const check = useMemo(() => checkPipeline(text), [text]);
  const editor = useRef<HTMLTextAreaElement>(null);
  const checkId = useId();
  const resultId = useId();
  const dirty = text !== base;

  async function save() {
    if (!check.ok) {
      action.fail(`Fix the JSON first. ${check.message}`);
      return;
    }
    await action.run(
      async () => {
        const version = await unwrap(
          api.POST("/api/filters", {
            body: { filter_id: filterId },
            // The text goes as typed (key order, 64-bit integers): see newVersionBody.
            bodySerializer: () => newVersionBody(filterId, text),
          }),
        );
        onSaved();
        return (version as { fid?: unknown }).fid;
      },
      (fid) => `Saved version ${String(fid)}; it is now the active version.`,
    );
  }

  function goTo(offset: number) {
    const area = editor.current;
    if (!area) return;
    area.focus();
    area.setSelectionRange(offset, Math.min(offset + 1, text.length));
  }

  return (
    <section aria-labelledby="pipeline" className="card">
      <h2 id="pipeline">Pipeline</h2>
      <label className="block">
        Pipeline (JSON)
        <textarea
          ref={editor}
          className="code"
          spellCheck={false}
          wrap="off"
          autoCapitalize="off"
          autoCorrect="off"
          value={text}
          readOnly={!canManage}
          rows={Math.min(30, Math.max(12, text.split("\n").length + 1))}
          onChange={(event) => onChange(event.target.value)}
          aria-invalid={check.ok ? undefined : true}
          aria-describedby={`${checkId} ${resultId}`}
        />
      </label>
      <p id={checkId} className={check.ok ? "hint" : "field-error"}>
        {check.ok ? (
          `Valid JSON, ${check.stages} stage${check.stages === 1 ? "" : "s"}${dirty ? " (not saved)" : ""}. The server checks the stages when you save.`
        ) : (
          <>
            {check.message}{" "}
            <button type="button" className="link" onClick={() => goTo(check.offset)}>
              Go to line {check.line}, column {check.column}
            </button>
          </>
        )}
      </p>
      {canManage ? (
        <div className="row">
          <button type="button" disabled={action.busy} onClick={() => void save()}>
            {action.busy ? "Saving…" : "Save as new version"}
          </button>
          <button
            type="button"
            className="secondary"
            disabled={!check.ok}
            onClick={() => onChange(formatPipeline(text))}
          >
            Format
          </button>
          {base && (
            <button
              type="button"
              className="secondary"
              disabled={!dirty}
              onClick={() => onChange(base)}
            >
              Revert to the active version
            </button>
          )}
        </div>
      ) : (
        <p className="muted">Only the group's admins can change this filter.</p>
      )}
      <ActionStatus action={action} id={resultId} />
    </section>
  );
}
