// A table of groups with links to their pages; optionally the caller's standing with each.
import type { ReactNode } from "react";
import { Link } from "react-router-dom";
import type { Group } from "../../api";

type Props = {
  groups: Group[];
  caption: string;
  /** A last column (membership, join button) per group. */
  standing?: (group: Group) => ReactNode;
  empty: string;
};

export function GroupTable({ groups, caption, standing, empty }: Props) {
  if (groups.length === 0) return <p className="muted">{empty}</p>;
  return (
    <div className="table-wrap">
      <table className="groups-table">
        <caption className="visually-hidden">{caption}</caption>
        <thead>
          <tr>
            <th scope="col">Name</th>
            <th scope="col" className="hide-narrow">
              Nickname
            </th>
            <th scope="col">Description</th>
            {standing && <th scope="col">Membership</th>}
          </tr>
        </thead>
        <tbody>
          {groups.map((group) => (
            <tr key={group.id}>
              <th scope="row">
                <Link to={`/group/${group.id}`}>{group.name}</Link>
                {group.private && <span className="badge">private</span>}
              </th>
              <td className="hide-narrow">{group.nickname ?? <span className="muted">—</span>}</td>
              <td>{group.description ?? <span className="muted">—</span>}</td>
              {standing && <td>{standing(group)}</td>}
            </tr>
          ))}
        </tbody>
      </table>
    </div>
  );
}
