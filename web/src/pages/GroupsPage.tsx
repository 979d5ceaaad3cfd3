// /groups: the caller's groups, every group (with a request to join), and a new group.
import { useMemo } from "react";
import { api, unwrap } from "../api";
import { CreateGroupForm } from "../components/groups/CreateGroupForm";
import { GroupTable } from "../components/groups/GroupTable";
import { JoinGroup } from "../components/groups/JoinGroup";
import { Status } from "../components/Status";
import { byName, sharedGroups, standing } from "../lib/groups";
import { useProfile, useSession } from "../session";
import { useApi } from "../useApi";

export default function GroupsPage() {
  const profile = useProfile();
  const groups = useApi(() => unwrap(api.GET("/api/groups")), []);
  const requests = useApi(() => unwrap(api.GET("/api/group_admission_requests")), []);
  const { refresh } = useSession();

  const mine = useMemo(() => sharedGroups(groups.value?.user_groups).sort(byName), [groups.value]);
  const all = useMemo(() => sharedGroups(groups.value?.all_groups).sort(byName), [groups.value]);
  const memberOf = useMemo(() => new Set(mine.map((group) => group.id ?? -1)), [mine]);
  // A system admin lists everyone's requests: only the caller's own say where they stand.
  const myRequests = useMemo(
    () => (requests.value ?? []).filter((request) => request.user_id === profile.id),
    [requests.value, profile.id],
  );

  return (
    <>
      <h1>Groups</h1>
      <Status loading={groups.loading && !groups.value} error={groups.error} />
      <div className="grid-2">
        <section aria-labelledby="my-groups">
          <h2 id="my-groups">My groups</h2>
          {groups.value && (
            <GroupTable groups={mine} caption="My groups" empty="You are in no group yet." />
          )}
        </section>
        <CreateGroupForm />
      </div>
      <section aria-labelledby="all-groups">
        <h2 id="all-groups">All groups</h2>
        {requests.error && <Status error={requests.error} />}
        {groups.value && (
          <GroupTable
            groups={all}
            caption="All groups"
            empty="No groups."
            standing={(group) => (
              <JoinGroup
                group={group}
                standing={standing(group.id, memberOf, myRequests)}
                onRequested={() => {
                  requests.reload();
                  void refresh();
                }}
              />
            )}
          />
        )}
      </section>
    </>
  );
}
