// Groups: who may administer one, finding a user by name, where the caller stands with a group.
import type { Schemas } from "../api";

type Profile = Schemas["skymesh.portal.v1.ProfileJson"];
type Group = Schemas["skymesh.portal.v1.GroupJson"];
type GroupMember = Schemas["skymesh.portal.v1.GroupMemberJson"];
type AdmissionRequest = Schemas["skymesh.portal.v1.AdmissionRequestJson"];

/** SkyPortal's group that every user is in: the API has no user search, so its member list is
 * the directory that turns a username into the user id the membership routes take. */
export const SITEWIDE_GROUP = "Sitewide Group";

/** The ACL that passes every check and sees every group. */
export const isSystemAdmin = (profile: Pick<Profile, "acls">): boolean =>
  (profile.acls ?? []).includes("System admin");

/** Edits of a group need its membership admin flag, or System admin. */
export function administers(
  profile: Pick<Profile, "id" | "acls">,
  members: GroupMember[] | undefined,
): boolean {
  if (isSystemAdmin(profile)) return true;
  return (members ?? []).some((member) => member.id === profile.id && member.admin === true);
}

export type ResolvedUser = { id: number; username: string | undefined } | { error: string };

/** A username or a numeric user id, as typed, -> the user's id. */
export function resolveUser(input: string, directory: GroupMember[]): ResolvedUser {
  const text = input.trim();
  if (!text) return { error: "Give a username or a user id." };
  const byName =
    directory.find((user) => user.username === text) ??
    directory.find((user) => user.username?.toLowerCase() === text.toLowerCase());
  if (byName?.id !== undefined) return { id: byName.id, username: byName.username };
  if (/^\d+$/.test(text)) {
    const id = Number(text);
    return { id, username: directory.find((user) => user.id === id)?.username };
  }
  return { error: `No user named "${text}".` };
}

export type Standing = "member" | "pending" | "declined" | "none";

/** The caller's standing with a group: a member, a pending (or last declined) request, or none. */
export function standing(
  groupId: number | undefined,
  myGroupIds: Set<number>,
  myRequests: AdmissionRequest[],
): Standing {
  if (groupId === undefined) return "none";
  if (myGroupIds.has(groupId)) return "member";
  const latest = myRequests
    .filter((request) => request.group_id === groupId)
    .sort((a, b) => (a.created_at ?? "").localeCompare(b.created_at ?? ""))
    .at(-1);
  if (latest?.status === "pending") return "pending";
  if (latest?.status === "declined") return "declined";
  return "none";
}

/** Groups as a person thinks of them: a user's own single-user group is not one. */
export const sharedGroups = (groups: Group[] | undefined): Group[] =>
  (groups ?? []).filter((group) => !group.single_user_group);

export const byName = (a: { name?: string }, b: { name?: string }): number =>
  (a.name ?? "").localeCompare(b.name ?? "", undefined, { sensitivity: "base" });
