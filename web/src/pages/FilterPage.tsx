// /filter/:filterId: a filter's pipeline editor, versions, switches and test on past alerts.
import { useEffect, useMemo, useRef, useState } from "react";
import { Link, useParams } from "react-router-dom";
import { api, unwrap } from "../api";
import { FilterAdmin } from "../components/groups/FilterAdmin";
import { FilterSettings } from "../components/groups/FilterSettings";
import { FilterTest } from "../components/groups/FilterTest";
import { PipelineEditor } from "../components/groups/PipelineEditor";
import { VersionsTable } from "../components/groups/VersionsTable";
import { Status } from "../components/Status";
import { activeVersion, describeStream, formatPipeline, readFilterDoc } from "../lib/filters";
import { administers, sharedGroups } from "../lib/groups";
import { useProfile } from "../session";
import { useApi } from "../useApi";

// A filter's first pipeline: an example to edit, not a filter anyone asked for.
const FIRST_PIPELINE = `[
  {"$match": {"candidate.drb": {"$gt": 0.9}, "candidate.magpsf": {"$lt": 19.5}}},
  {"$project": {"objectId": 1, "annotations": {"magpsf": "$candidate.magpsf", "drb": "$candidate.drb"}}}
]`;

export default function FilterPage() {
  const filterId = Number(useParams().filterId);
  const profile = useProfile();

  const filter = useApi(async () => {
    if (!Number.isInteger(filterId) || filterId <= 0) throw new Error("No such filter.");
    return readFilterDoc(
      await unwrap(
        api.GET("/api/filters/{filter_id}", { params: { path: { filter_id: filterId } } }),
      ),
    );
  }, [filterId]);
  const groupId = filter.value?.group_id;
  const group = useApi(
    async () =>
      groupId === undefined
        ? undefined
        : unwrap(api.GET("/api/groups/{group_id}", { params: { path: { group_id: groupId } } })),
    [groupId],
  );
  const groups = useApi(() => unwrap(api.GET("/api/groups")), []);

  const doc = filter.value;
  const active = doc && activeVersion(doc);
  const base = active ? formatPipeline(active.pipeline) : "";
  const [text, setText] = useState<string>();
  // The editor follows the active version (on load, after a save, after "Make active") unless
  // it holds edits of its own.
  const shownBase = useRef<string>(undefined);
  const justSaved = useRef(false);
  useEffect(() => {
    if (!doc) return;
    // Read the refs now: the updater runs at the next render, after they change.
    const previous = shownBase.current;
    const follow = justSaved.current;
    setText((current) =>
      current === undefined || current === previous || follow ? base || FIRST_PIPELINE : current,
    );
    justSaved.current = false;
    shownBase.current = base;
  }, [doc, base]);

  const canManage = administers(profile, group.value?.users);
  const stream = group.value?.streams?.find((candidate) => candidate.id === doc?.stream_id);
  const autosaveGroups = useMemo(
    () => sharedGroups(groups.value?.user_accessible_groups),
    [groups.value],
  );

  if (!doc) return <Status loading={filter.loading} error={filter.error} />;

  return (
    <>
      <header className="page-header">
        <h1>{doc.name}</h1>
        <dl className="facts">
          <div>
            <dt>Group</dt>
            <dd>
              <Link to={`/group/${doc.group_id}`}>
                {group.value?.name ?? `group ${doc.group_id}`}
              </Link>
            </dd>
          </div>
          <div>
            <dt>Stream</dt>
            <dd>
              {stream?.name ?? `stream ${doc.stream_id}`}{" "}
              <span className="muted">{describeStream(stream?.altdata)}</span>
            </dd>
          </div>
          <div>
            <dt>Filter id</dt>
            <dd className="mono">{doc.id}</dd>
          </div>
          <div>
            <dt>State</dt>
            <dd>
              {doc.versions.length === 0 ? (
                <span className="badge">no version yet</span>
              ) : (
                <span className={`badge ${doc.active ? "saved" : ""}`}>
                  {doc.active ? "active" : "inactive"}
                </span>
              )}
            </dd>
          </div>
        </dl>
        {canManage && <FilterAdmin key={doc.name} filter={doc} onSaved={filter.reload} />}
      </header>
      {filter.error && <Status error={filter.error} />}
      {group.error && <Status error={group.error} />}
      <div className="filter-layout">
        <div className="cards">
          <PipelineEditor
            filterId={doc.id}
            text={text ?? base}
            onChange={setText}
            base={base}
            canManage={canManage}
            onSaved={() => {
              justSaved.current = true;
              filter.reload();
            }}
          />
          <FilterTest filter={doc} />
        </div>
        <div className="cards">
          <FilterSettings
            filter={doc}
            canManage={canManage}
            groups={autosaveGroups}
            onSaved={filter.reload}
          />
          <VersionsTable
            filter={doc}
            canManage={canManage}
            onSaved={filter.reload}
            onLoad={(pipeline) => {
              setText(pipeline);
              document
                .getElementById("pipeline")
                ?.scrollIntoView({ behavior: "smooth", block: "start" });
            }}
          />
        </div>
      </div>
    </>
  );
}
