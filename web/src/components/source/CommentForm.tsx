// Posting a comment: text, an optional attachment (base64, as the API takes it), its groups.
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type Group, messageOf } from "../../api";
import { bytesToBase64 } from "../../lib/source";
import { Field } from "./Field";
import { GroupPicker } from "./GroupPicker";

/** The gateway takes request bodies up to 32 MB (SKYMESH_GATEWAY_MAX_REQUEST_BYTES's default)
 * and base64 adds a third: refuse what would not fit before encoding it. */
const MAX_ATTACHMENT_BYTES = 20 * 1024 * 1024;

type Props = { objId: string; groups: Group[]; onPosted: () => Promise<void> };

export function CommentForm({ objId, groups, onPosted }: Props) {
  const id = useId();
  const [text, setText] = useState("");
  const [file, setFile] = useState<File>();
  const [fileKey, setFileKey] = useState(0);
  const [groupIds, setGroupIds] = useState<number[] | undefined>(undefined);
  const [errors, setErrors] = useState<{ text?: string; file?: string; groups?: string }>({});
  const [posting, setPosting] = useState(false);
  const [failure, setFailure] = useState<string>();
  const allIds = groups.map((group) => group.id).filter((gid): gid is number => gid !== undefined);
  const chosen = groupIds ?? allIds;

  const submit = async (event: FormEvent) => {
    event.preventDefault();
    setFailure(undefined);
    const found: typeof errors = {};
    if (!text.trim()) found.text = "Write the comment first.";
    if (file && file.size > MAX_ATTACHMENT_BYTES)
      found.file = "The attachment is larger than 20 MB.";
    if (groupIds !== undefined && groupIds.length === 0)
      found.groups = "Choose at least one group.";
    setErrors(found);
    if (Object.keys(found).length) return;
    setPosting(true);
    try {
      const attachment = file
        ? { name: file.name, body: bytesToBase64(new Uint8Array(await file.arrayBuffer())) }
        : undefined;
      await unwrap(
        api.POST("/api/sources/{obj_id}/comments", {
          params: { path: { obj_id: objId } },
          body: {
            text: text.trim(),
            // Left out: every group of the caller (the API's default).
            ...(groupIds !== undefined ? { group_ids: groupIds } : {}),
            ...(attachment ? { attachment } : {}),
          },
        }),
      );
      setText("");
      setFile(undefined);
      setFileKey((key) => key + 1);
      await onPosted();
    } catch (problem) {
      setFailure(messageOf(problem));
    } finally {
      setPosting(false);
    }
  };

  return (
    <form
      className="comment-form subform"
      onSubmit={submit}
      noValidate
      aria-labelledby={`${id}-title`}
    >
      <h3 id={`${id}-title`}>Add a comment</h3>
      <Field label="Comment" error={errors.text}>
        {(control) => (
          <textarea
            {...control}
            value={text}
            onChange={(event) => setText(event.target.value)}
            rows={3}
          />
        )}
      </Field>
      <Field label="Attachment (optional)" error={errors.file}>
        {(control) => (
          <input
            {...control}
            key={fileKey}
            type="file"
            onChange={(event) => setFile(event.target.files?.[0])}
          />
        )}
      </Field>
      <details>
        <summary>
          Who may read it (
          {groupIds === undefined ? "all your groups" : `${chosen.length} of your groups`})
        </summary>
        <GroupPicker
          legend="Groups"
          groups={groups}
          selected={chosen}
          onChange={setGroupIds}
          error={errors.groups}
          errorId={`${id}-groups-error`}
        />
      </details>
      <div className="row">
        <button type="submit" disabled={posting}>
          {posting ? "Posting…" : "Post comment"}
        </button>
      </div>
      {failure && (
        <p className="field-error" role="alert">
          Posting failed: {failure}
        </p>
      )}
    </form>
  );
}
