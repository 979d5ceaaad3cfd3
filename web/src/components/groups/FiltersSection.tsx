// A group's filters with the state of their versions, and a new filter (name + stream).
import { useId, useState, type FormEvent } from "react";
import { Link, useNavigate } from "react-router-dom";
import { api, unwrap, type PortalFilter, type Stream } from "../../api";
import { activeVersion, readFilterDoc, type FilterDoc } from "../../lib/filters";
import { formatUtc } from "../../lib/format";
import { byName } from "../../lib/groups";
import { useApi } from "../../useApi";
import { Status } from "../Status";
import { ActionStatus } from "./ActionStatus";
import { useAction } from "./useAction";

type Props = {
  groupId: number;
  filters: PortalFilter[];
  streams: Stream[];
  canCreate: boolean;
  /** Only the group's members (and system admins) read its filters' versions. */
  readable: boolean;
};

export function FiltersSection({ groupId, filters, streams, canCreate, readable }: Props) {
  const ids = filters.map((filter) => filter.id ?? 0);
  // Kowalski's side of each filter (versions, on/off); one failing does not hide the others.
  const docs = useApi(async () => {
    if (!readable)
      return new Map<number, FilterDoc | Error>(ids.map((id) => [id, new Error("members only")]));
    const settled = await Promise.allSettled(
      ids.map(async (id) =>
        readFilterDoc(
          await unwrap(
            api.GET("/api/filters/{filter_id}", { params: { path: { filter_id: id } } }),
          ),
        ),
      ),
    );
    return new Map<number, FilterDoc | Error>(
      settled.map((result, index) => [
        ids[index],
        result.status === "fulfilled" ? result.value : new Error(String(result.reason)),
      ]),
    );
  }, [ids.join(","), readable]);
  const streamName = (id: number | undefined) =>
    streams.find((stream) => stream.id === id)?.name ?? `stream ${id}`;

  return (
    <section aria-labelledby="filters" className="card">
      <h2 id="filters">Filters</h2>
      {filters.length === 0 ? (
        <p className="muted">No filters yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="filters-table">
            <caption className="visually-hidden">Filters</caption>
            <thead>
              <tr>
                <th scope="col">Name</th>
                <th scope="col">Stream</th>
                <th scope="col">Active version (UTC)</th>
                <th scope="col">State</th>
              </tr>
            </thead>
            <tbody>
              {[...filters].sort(byName).map((filter) => (
                <FilterRow
                  key={filter.id}
                  filter={filter}
                  doc={docs.value?.get(filter.id ?? 0)}
                  loading={docs.loading}
                  stream={streamName(filter.stream_id)}
                />
              ))}
            </tbody>
          </table>
        </div>
      )}
      {docs.error && <Status error={docs.error} />}
      {canCreate && <CreateFilter groupId={groupId} streams={streams} />}
    </section>
  );
}

function FilterRow({
  filter,
  doc: answer,
  loading,
  stream,
}: {
  filter: PortalFilter;
  doc: FilterDoc | Error | undefined;
  loading: boolean;
  stream: string;
}) {
  // Only the group's members read a filter's versions.
  const unreadable = answer instanceof Error;
  const doc = unreadable ? undefined : answer;
  const version = doc && activeVersion(doc);
  return (
    <tr>
      <th scope="row">
        <Link to={`/filter/${filter.id}`}>{filter.name}</Link>
      </th>
      <td>{stream}</td>
      <td>
        {version ? (
          <>
            <span className="mono">{version.fid}</span>{" "}
            <span className="muted">{formatUtc(version.created_at).slice(0, 16)}</span>
          </>
        ) : (
          <span className="muted" title={unreadable ? answer.message : undefined}>
            {loading && !answer ? "…" : unreadable ? "members only" : "no version yet"}
          </span>
        )}
      </td>
      <td>
        {doc && doc.versions.length > 0 && (
          <span className={`badge ${doc.active ? "saved" : ""}`}>
            {doc.active ? "active" : "inactive"}
          </span>
        )}
        {doc?.autosave.active && <span className="badge">autosave</span>}
      </td>
    </tr>
  );
}

function CreateFilter({ groupId, streams }: { groupId: number; streams: Stream[] }) {
  const navigate = useNavigate();
  const action = useAction();
  const [name, setName] = useState("");
  const [streamId, setStreamId] = useState("");
  const errorId = useId();
  const streamSelectId = useId();

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) return action.fail("A filter needs a name.");
    if (!streamId) return action.fail("Choose the stream the filter reads.");
    const created = await action.run(() =>
      unwrap(
        api.POST("/api/filters", {
          body: { name: name.trim(), group_id: groupId, stream_id: Number(streamId) },
        }),
      ),
    );
    // SkyPortal's answer {"id"}: the new filter, whose first pipeline is written on its page.
    const id = created && (created as { id?: unknown }).id;
    if (typeof id === "number") navigate(`/filter/${id}`);
  }

  return (
    <form className="create-filter" onSubmit={submit} aria-labelledby="create-filter">
      <h3 id="create-filter">Create a filter</h3>
      {streams.length === 0 ? (
        <p className="muted">Add a stream to the group first: a filter reads one stream.</p>
      ) : (
        <div className="toolbar">
          <label>
            Filter name
            <input
              value={name}
              onChange={(event) => setName(event.target.value)}
              aria-describedby={errorId}
            />
          </label>
          <div className="field">
            <label htmlFor={streamSelectId}>Stream</label>
            <select
              id={streamSelectId}
              value={streamId}
              onChange={(event) => setStreamId(event.target.value)}
              aria-describedby={errorId}
            >
              <option value="">Choose a stream…</option>
              {streams.map((stream) => (
                <option key={stream.id} value={String(stream.id)}>
                  {stream.name}
                </option>
              ))}
            </select>
          </div>
          <button type="submit" disabled={action.busy}>
            {action.busy ? "Creating…" : "Create filter"}
          </button>
        </div>
      )}
      <ActionStatus action={action} id={errorId} />
    </form>
  );
}
