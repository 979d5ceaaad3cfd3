// "Comments": the object's comments (author, when, text, attachment), posting and deleting.
import { useState } from "react";
import { api, unwrap, type Comment, type Group, type Profile, messageOf } from "../../api";
import { formatUtc, timeAgo } from "../../lib/format";
import { isOwn, mayDo } from "../../lib/source";
import { Status } from "../Status";
import { CommentForm } from "./CommentForm";
import { ConfirmButton } from "./ConfirmButton";
import { downloadFromApi } from "./download";
import { useSectionData } from "./useSectionData";

type Props = { objId: string; initial: Comment[] | undefined; profile: Profile; groups: Group[] };

export function CommentsSection({ objId, initial, profile, groups }: Props) {
  const comments = useSectionData(
    initial,
    () =>
      unwrap(api.GET("/api/sources/{obj_id}/comments", { params: { path: { obj_id: objId } } })),
    [],
  );
  const sorted = [...comments.value].sort((a, b) =>
    (a.created_at ?? "").localeCompare(b.created_at ?? ""),
  );

  return (
    <section className="card source-comments" aria-labelledby="source-comments-title">
      <h2 id="source-comments-title">Comments</h2>
      {sorted.length === 0 ? (
        <p className="muted">No comments yet.</p>
      ) : (
        <ul className="comment-list">
          {sorted.map((comment) => (
            <CommentItem
              key={comment.id}
              objId={objId}
              comment={comment}
              deletable={isOwn(profile, comment.author_id) && mayDo(profile, "Comment")}
              onDeleted={comments.reload}
            />
          ))}
        </ul>
      )}
      {comments.error && <Status error={comments.error} />}
      {mayDo(profile, "Comment") ? (
        <CommentForm objId={objId} groups={groups} onPosted={comments.reload} />
      ) : (
        <p className="muted">Commenting needs the “Comment” permission.</p>
      )}
    </section>
  );
}

type ItemProps = {
  objId: string;
  comment: Comment;
  deletable: boolean;
  onDeleted: () => Promise<void>;
};

function CommentItem({ objId, comment, deletable, onDeleted }: ItemProps) {
  const [downloading, setDownloading] = useState(false);
  const [error, setError] = useState<string>();
  const author = comment.author?.username ?? `user ${comment.author_id ?? "?"}`;

  const download = async () => {
    setDownloading(true);
    setError(undefined);
    try {
      await downloadFromApi(
        `/api/sources/${encodeURIComponent(objId)}/comments/${comment.id}/attachment`,
        comment.attachment_name ?? "attachment",
      );
    } catch (failure) {
      setError(`Download failed: ${messageOf(failure)}`);
    } finally {
      setDownloading(false);
    }
  };

  return (
    <li className="comment">
      <div className="comment-meta">
        <strong>{author}</strong>
        {comment.bot && <span className="badge">bot</span>}
        <time dateTime={comment.created_at} title={formatUtc(comment.created_at)} className="muted">
          {timeAgo(comment.created_at)}
        </time>
        {(comment.groups ?? []).length > 0 && (
          <span className="muted small-text">
            · {(comment.groups ?? []).map((g) => g.name).join(", ")}
          </span>
        )}
      </div>
      <p>{comment.text}</p>
      <div className="row">
        {comment.attachment_name && (
          <button type="button" className="link" onClick={download} disabled={downloading}>
            <span aria-hidden="true">📎 </span>
            {downloading ? "Downloading…" : `Download ${comment.attachment_name}`}
          </button>
        )}
        {deletable && (
          <ConfirmButton
            label={`Delete comment by ${author}, ${timeAgo(comment.created_at)}`}
            onConfirm={async () => {
              await unwrap(
                api.DELETE("/api/sources/{obj_id}/comments/{comment_id}", {
                  params: { path: { obj_id: objId, comment_id: comment.id as number } },
                }),
              );
              await onDeleted();
            }}
          />
        )}
      </div>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
    </li>
  );
}
