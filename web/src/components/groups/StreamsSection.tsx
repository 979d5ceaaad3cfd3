// A group's streams (which alerts its filters read); its admins add or remove them.
import { useId, useState, type FormEvent } from "react";
import { api, unwrap, type Stream } from "../../api";
import { describeStream } from "../../lib/filters";
import { byName } from "../../lib/groups";
import { ActionStatus } from "./ActionStatus";
import { ConfirmButton } from "./ConfirmButton";
import { useAction } from "./useAction";

type Props = {
  groupId: number;
  streams: Stream[];
  /** The streams the caller may read (every stream, for a system admin). */
  myStreams: Stream[] | undefined;
  canAdmin: boolean;
  onChanged: () => void;
};

export function StreamsSection({ groupId, streams, myStreams, canAdmin, onChanged }: Props) {
  const action = useAction();
  const [choice, setChoice] = useState("");
  const selectId = useId();
  const addable = (myStreams ?? [])
    .filter((stream) => !streams.some((own) => own.id === stream.id))
    .sort(byName);

  const remove = (stream: Stream) =>
    action.run(async () => {
      await unwrap(
        api.DELETE("/api/groups/{group_id}/streams/{stream_id}", {
          params: { path: { group_id: groupId, stream_id: stream.id ?? 0 } },
        }),
      );
      onChanged();
    }, `${stream.name} was removed from the group.`);

  async function add(event: FormEvent) {
    event.preventDefault();
    const stream = addable.find((candidate) => String(candidate.id) === choice);
    if (!stream) {
      action.fail("Choose a stream to add.");
      return;
    }
    const added = await action.run(
      () =>
        unwrap(
          api.POST("/api/groups/{group_id}/streams", {
            params: { path: { group_id: groupId } },
            body: { stream_id: String(stream.id) },
          }),
        ),
      `${stream.name} was added to the group.`,
    );
    if (added) {
      setChoice("");
      onChanged();
    }
  }

  return (
    <section aria-labelledby="streams" className="card">
      <h2 id="streams">Streams</h2>
      {streams.length === 0 ? (
        <p className="muted">No streams: the group's filters read no alerts until one is added.</p>
      ) : (
        <ul className="plain-list">
          {[...streams].sort(byName).map((stream) => (
            <li key={stream.id} className="row spread">
              <span>
                <strong>{stream.name}</strong>{" "}
                <span className="muted">{describeStream(stream.altdata)}</span>
              </span>
              {canAdmin && (
                <ConfirmButton
                  label={`Remove stream ${stream.name}`}
                  disabled={action.busy}
                  onConfirm={() => void remove(stream)}
                >
                  Remove
                </ConfirmButton>
              )}
            </li>
          ))}
        </ul>
      )}
      {canAdmin && (
        <form className="toolbar" onSubmit={add} aria-label="Add a stream">
          <div className="field">
            <label htmlFor={selectId}>Stream to add</label>
            <select
              id={selectId}
              value={choice}
              onChange={(event) => setChoice(event.target.value)}
            >
              <option value="">
                {addable.length ? "Choose a stream…" : "No other stream of yours"}
              </option>
              {addable.map((stream) => (
                <option key={stream.id} value={String(stream.id)}>
                  {stream.name} ({describeStream(stream.altdata)})
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={action.busy || addable.length === 0}>
            {action.busy ? "Saving…" : "Add stream"}
          </button>
        </form>
      )}
      <ActionStatus action={action} />
    </section>
  );
}
