// /group/:groupId: a group's members, admission requests, streams and filters.
import { useMemo } from "react";
import { useParams } from "react-router-dom";
import { api, unwrap } from "../api";
import { AdmissionRequests } from "../components/groups/AdmissionRequests";
import { FiltersSection } from "../components/groups/FiltersSection";
import { GroupSettings } from "../components/groups/GroupSettings";
import { MembersSection } from "../components/groups/MembersSection";
import { StreamsSection } from "../components/groups/StreamsSection";
import { Status } from "../components/Status";
import { administers, isSystemAdmin, SITEWIDE_GROUP, standing } from "../lib/groups";
import { useProfile, useSession } from "../session";
import { useApi } from "../useApi";

/** Every user the caller can see: the API has no user search, and everyone is in the
 * Sitewide Group, whose member list turns usernames into ids. */
async function loadDirectory() {
  const groups = await unwrap(api.GET("/api/groups"));
  const sitewide = groups.all_groups?.find((group) => group.name === SITEWIDE_GROUP);
  if (sitewide?.id === undefined) return [];
  const detail = await unwrap(
    api.GET("/api/groups/{group_id}", { params: { path: { group_id: sitewide.id } } }),
  );
  return detail.users ?? [];
}

export default function GroupPage() {
  const groupId = Number(useParams().groupId);
  const profile = useProfile();
  const { refresh } = useSession();
  const valid = Number.isInteger(groupId) && groupId > 0;

  const group = useApi(async () => {
    if (!valid) throw new Error("No such group.");
    return unwrap(api.GET("/api/groups/{group_id}", { params: { path: { group_id: groupId } } }));
  }, [groupId]);
  const requests = useApi(
    () =>
      unwrap(api.GET("/api/group_admission_requests", { params: { query: { groupID: groupId } } })),
    [groupId],
  );
  const directory = useApi(loadDirectory, []);
  const myStreams = useApi(() => unwrap(api.GET("/api/streams")), []);

  const members = group.value?.users ?? [];
  const canAdmin = administers(profile, members);
  const isMember = members.some((member) => member.id === profile.id);
  const myRequests = useMemo(
    () => (requests.value ?? []).filter((request) => request.user_id === profile.id),
    [requests.value, profile.id],
  );

  if (!group.value) return <Status loading={group.loading} error={group.error} />;
  const detail = group.value;
  const reloadAll = () => {
    group.reload();
    requests.reload();
  };

  return (
    <>
      <header className="page-header">
        <h1>{detail.name}</h1>
        <p className="muted">
          {detail.nickname && <span className="mono">{detail.nickname}</span>}
          {detail.nickname && detail.description && " · "}
          {detail.description}
          {detail.private && <span className="badge">private</span>}
          {canAdmin && (
            <span className="badge saved">
              {isSystemAdmin(profile) && !isMember ? "system admin" : "you administer it"}
            </span>
          )}
        </p>
        {canAdmin && <GroupSettings group={detail} onSaved={group.reload} />}
      </header>
      {group.error && <Status error={group.error} />}
      <div className="cards">
        <div className="grid-2">
          <MembersSection
            groupId={groupId}
            members={members}
            canAdmin={canAdmin}
            directory={directory.value ?? []}
            myId={profile.id}
            onChanged={(affectsMe) => {
              group.reload();
              if (affectsMe) void refresh();
            }}
          />
          <div className="cards">
            <AdmissionRequests
              group={{ id: groupId, name: detail.name ?? "" }}
              requests={requests.value ?? []}
              canAdmin={canAdmin}
              myId={profile.id}
              standing={standing(groupId, new Set(isMember ? [groupId] : []), myRequests)}
              directory={directory.value ?? []}
              onChanged={reloadAll}
            />
            <StreamsSection
              groupId={groupId}
              streams={detail.streams ?? []}
              myStreams={myStreams.value}
              canAdmin={canAdmin}
              onChanged={group.reload}
            />
          </div>
        </div>
        <FiltersSection
          groupId={groupId}
          filters={detail.filters ?? []}
          streams={detail.streams ?? []}
          canCreate={canAdmin || isMember}
          readable={canAdmin || isMember}
        />
      </div>
    </>
  );
}
