// A filter's versions, the newest first: which is active, make another active, and read one
// with its changes from the active version.
import { useState } from "react";
import { api, unwrap } from "../../api";
import { diffLines, formatPipeline, type FilterDoc, type FilterVersion } from "../../lib/filters";
import { formatUtc } from "../../lib/format";
import { ActionStatus } from "./ActionStatus";
import { useAction } from "./useAction";

type Props = {
  filter: FilterDoc;
  canManage: boolean;
  onSaved: () => void;
  /** Puts a version's pipeline in the editor. */
  onLoad: (pipeline: string) => void;
};

export function VersionsTable({ filter, canManage, onSaved, onLoad }: Props) {
  const action = useAction();
  const [viewing, setViewing] = useState<string>();
  const newestFirst = [...filter.versions].reverse();
  const shown = filter.versions.find((version) => version.fid === viewing);

  const makeActive = (version: FilterVersion) =>
    action.run(async () => {
      await unwrap(
        api.PATCH("/api/filters", { body: { filter_id: filter.id, active_fid: version.fid } }),
      );
      onSaved();
    }, `Version ${version.fid} is now the active version.`);

  return (
    <section aria-labelledby="versions" className="card">
      <h2 id="versions">Versions</h2>
      {newestFirst.length === 0 ? (
        <p className="muted">No versions yet.</p>
      ) : (
        <div className="table-wrap">
          <table className="versions-table">
            <caption className="visually-hidden">Versions, the newest first</caption>
            <thead>
              <tr>
                <th scope="col">Version</th>
                <th scope="col">Created (UTC)</th>
                <th scope="col">Active</th>
                <th scope="col">Actions</th>
              </tr>
            </thead>
            <tbody>
              {newestFirst.map((version) => {
                const active = version.fid === filter.active_fid;
                return (
                  <tr key={version.fid} className={active ? "current" : undefined}>
                    <th scope="row" className="mono">
                      {version.fid}
                    </th>
                    <td>{formatUtc(version.created_at).replace(" UTC", "")}</td>
                    <td>
                      {active ? (
                        <span className="badge saved">active</span>
                      ) : (
                        <span className="muted">—</span>
                      )}
                    </td>
                    <td>
                      <div className="row">
                        <button
                          type="button"
                          className="secondary"
                          aria-expanded={viewing === version.fid}
                          aria-label={`View version ${version.fid}`}
                          onClick={() =>
                            setViewing(viewing === version.fid ? undefined : version.fid)
                          }
                        >
                          {viewing === version.fid ? "Hide" : "View"}
                        </button>
                        {canManage && !active && (
                          <button
                            type="button"
                            className="secondary"
                            disabled={action.busy}
                            aria-label={`Make version ${version.fid} active`}
                            onClick={() => void makeActive(version)}
                          >
                            Make active
                          </button>
                        )}
                      </div>
                    </td>
                  </tr>
                );
              })}
            </tbody>
          </table>
        </div>
      )}
      <ActionStatus action={action} />
      {shown && (
        <VersionView
          version={shown}
          active={filter.versions.find((version) => version.fid === filter.active_fid)}
          onLoad={onLoad}
        />
      )}
    </section>
  );
}

function VersionView({
  version,
  active,
  onLoad,
}: {
  version: FilterVersion;
  active: FilterVersion | undefined;
  onLoad: (pipeline: string) => void;
}) {
  const comparable = active !== undefined && active.fid !== version.fid;
  const [compare, setCompare] = useState(comparable);
  const text = formatPipeline(version.pipeline);
  return (
    <div className="version-view">
      <h3>Version {version.fid}</h3>
      <div className="row">
        {comparable && (
          <label className="inline">
            <input
              type="checkbox"
              checked={compare}
              onChange={(event) => setCompare(event.target.checked)}
            />
            Show changes from the active version {active.fid}
          </label>
        )}
        <button type="button" className="secondary" onClick={() => onLoad(text)}>
          Load into the editor
        </button>
      </div>
      {comparable && compare ? (
        <figure className="pipeline-figure">
          <figcaption className="hint">
            Lines marked − are only in the active version {active.fid}; lines marked + only in{" "}
            {version.fid}.
          </figcaption>
          <pre className="code diff">
            {diffLines(formatPipeline(active.pipeline), text).map((line, index) => (
              <span key={index} className={line.kind}>
                {line.kind === "added" ? "+ " : line.kind === "removed" ? "− " : "  "}
                {line.text}
                {"\n"}
              </span>
            ))}
          </pre>
        </figure>
      ) : (
        <pre className="code">{text}</pre>
      )}
    </div>
  );
}
