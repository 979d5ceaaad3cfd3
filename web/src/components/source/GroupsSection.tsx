// "Saved to groups": the saves and invitations, save to more of the caller's groups, unsave,
// invite another group, answer an invitation (POST /api/source_groups, PATCH .../{obj_id}).
import { useId, useState, type FormEvent } from "react";
import { Link } from "react-router-dom";
import { api, unwrap, type Groups, type Profile, type SavedGroup, messageOf } from "../../api";
import { formatUtc } from "../../lib/format";
import { invitableGroups, isSystemAdmin, mayDo, saveableGroups } from "../../lib/source";
import { Status } from "../Status";
import { useSectionData } from "./useSectionData";

type Props = {
  objId: string;
  initial: SavedGroup[] | undefined;
  groups: Groups | undefined;
  groupsError: Error | undefined;
  profile: Profile;
};

export function GroupsSection({ objId, initial, groups, groupsError, profile }: Props) {
  const saved = useSectionData(
    initial,
    () => unwrap(api.GET("/api/sources/{obj_id}/groups", { params: { path: { obj_id: objId } } })),
    [],
  );
  const [busy, setBusy] = useState<string>();
  const [error, setError] = useState<string>();
  const [done, setDone] = useState<string>();
  // A caller sees the saves of their own groups only: remember whom they invited here.
  const [invited, setInvited] = useState<number[]>([]);
  const admin = isSystemAdmin(profile);
  const canWrite = mayDo(profile, "Upload data");
  const mine = groups?.user_groups ?? [];
  const all = groups?.all_groups ?? [];
  const member = (groupId: number | undefined) =>
    admin || (groupId !== undefined && (profile.groups ?? []).includes(groupId));
  const rows = saved.value.filter((group) => group.active || group.requested);

  /** Runs one write, then reloads the saves; `what` is the progress text of the button pressed. */
  const run = async (what: string, write: () => Promise<unknown>, success: string) => {
    setBusy(what);
    setError(undefined);
    setDone(undefined);
    try {
      await write();
      await saved.reload();
      setDone(success);
    } catch (failure) {
      setError(messageOf(failure));
      await saved.reload();
    } finally {
      setBusy(undefined);
    }
  };

  const post = (body: { inviteGroupIds?: string[]; unsaveGroupIds?: string[] }) =>
    unwrap(api.POST("/api/source_groups", { body: { objId, ...body } }));

  const answer = (groupId: number, accept: boolean) =>
    unwrap(
      api.PATCH("/api/source_groups/{obj_id}", {
        params: { path: { obj_id: objId } },
        body: { groupID: String(groupId), active: accept, requested: false },
      }),
    );

  return (
    <section className="card source-groups" aria-labelledby="source-groups-title">
      <h2 id="source-groups-title">Saved to groups</h2>
      {rows.length === 0 ? (
        <p className="muted">Not saved to any of your groups.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Group</th>
                <th scope="col">Saved</th>
                <th scope="col">By</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {rows.map((group) => (
                <tr key={group.id}>
                  <td>
                    <Link to={`/group/${group.id}`}>{group.name}</Link>
                    {group.requested && !group.active && <span className="badge"> invited</span>}
                  </td>
                  <td>{group.active ? formatUtc(group.saved_at) : "—"}</td>
                  <td>{group.saved_by?.username ?? "—"}</td>
                  <td className="actions">
                    {canWrite && member(group.id) && group.active && (
                      <button
                        type="button"
                        className="secondary small"
                        disabled={busy !== undefined}
                        aria-label={`Unsave from ${group.name}`}
                        onClick={() =>
                          run(
                            `unsave-${group.id}`,
                            () => post({ unsaveGroupIds: [String(group.id)] }),
                            `Unsaved from ${group.name}.`,
                          )
                        }
                      >
                        {busy === `unsave-${group.id}` ? "Unsaving…" : "Unsave"}
                      </button>
                    )}
                    {canWrite && member(group.id) && group.requested && !group.active && (
                      <>
                        <button
                          type="button"
                          className="small"
                          disabled={busy !== undefined}
                          aria-label={`Accept invitation to ${group.name}`}
                          onClick={() =>
                            run(
                              `accept-${group.id}`,
                              () => answer(group.id as number, true),
                              `Saved to ${group.name}.`,
                            )
                          }
                        >
                          {busy === `accept-${group.id}` ? "Saving…" : "Accept"}
                        </button>
                        <button
                          type="button"
                          className="secondary small"
                          disabled={busy !== undefined}
                          aria-label={`Decline invitation to ${group.name}`}
                          onClick={() =>
                            run(
                              `decline-${group.id}`,
                              () => answer(group.id as number, false),
                              `Declined for ${group.name}.`,
                            )
                          }
                        >
                          {busy === `decline-${group.id}` ? "Declining…" : "Decline"}
                        </button>
                      </>
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {groupsError && <Status error={groupsError} />}
      {canWrite && groups && (
        <div className="group-forms">
          <GroupChoice
            label="Save to group"
            button="Save"
            busyText="Saving…"
            choices={saveableGroups(mine, all, saved.value, admin)}
            empty="Saved to all of your groups."
            busy={busy}
            onSubmit={(group) =>
              run(
                "save",
                () => post({ inviteGroupIds: [String(group.id)] }),
                `Saved to ${group.name}.`,
              )
            }
          />
          {!admin && (
            <GroupChoice
              label="Invite group"
              button="Invite"
              busyText="Inviting…"
              choices={invitableGroups(mine, all, saved.value, admin).filter(
                (g) => !invited.includes(g.id ?? -1),
              )}
              empty="No other group to invite."
              busy={busy}
              onSubmit={(group) =>
                run(
                  "invite",
                  async () => {
                    await post({ inviteGroupIds: [String(group.id)] });
                    setInvited((old) => [...old, group.id ?? -1]);
                  },
                  `Invited ${group.name}: its members will answer.`,
                )
              }
            />
          )}
        </div>
      )}
      {!canWrite && <p className="muted">Saving needs the “Upload data” permission.</p>}
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      {saved.error && <Status error={saved.error} />}
      {done && (
        <p className="status ok" role="status">
          {done}
        </p>
      )}
    </section>
  );
}

type ChoiceProps = {
  label: string;
  button: string;
  busyText: string;
  choices: { id?: number; name?: string }[];
  empty: string;
  busy: string | undefined;
  onSubmit: (group: { id?: number; name?: string }) => void;
};

/** One select of groups and its button (Save to group, Invite group). */
function GroupChoice({ label, button, busyText, choices, empty, busy, onSubmit }: ChoiceProps) {
  const id = useId();
  const [chosen, setChosen] = useState("");
  const [error, setError] = useState<string>();
  const key = button.toLowerCase();
  const submit = (event: FormEvent) => {
    event.preventDefault();
    const group = choices.find((choice) => String(choice.id) === chosen);
    if (!group) {
      setError(`Choose a group first.`);
      return;
    }
    setError(undefined);
    setChosen("");
    onSubmit(group);
  };
  if (choices.length === 0) return <p className="muted">{empty}</p>;
  return (
    <form className="row" onSubmit={submit} noValidate>
      <label htmlFor={id}>{label}</label>
      <select
        id={id}
        value={chosen}
        onChange={(event) => setChosen(event.target.value)}
        aria-invalid={error ? true : undefined}
        aria-describedby={error ? `${id}-error` : undefined}
      >
        <option value="">Choose a group…</option>
        {choices.map((group) => (
          <option key={group.id} value={group.id}>
            {group.name}
          </option>
        ))}
      </select>
      <button type="submit" disabled={busy !== undefined}>
        {busy === key ? busyText : button}
      </button>
      {error && (
        <span id={`${id}-error`} className="field-error" role="alert">
          {error}
        </span>
      )}
    </form>
  );
}
