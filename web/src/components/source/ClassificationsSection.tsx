// "Classifications": who classified the object as what, adding one, deleting one's own.
import {
  api,
  unwrap,
  type Classification,
  type Group,
  type Profile,
  type Taxonomy,
} from "../../api";
import { formatUtc, timeAgo } from "../../lib/format";
import { isOwn, mayDo } from "../../lib/source";
import { useApi } from "../../useApi";
import { Status } from "../Status";
import { ClassificationForm } from "./ClassificationForm";
import { ConfirmButton } from "./ConfirmButton";
import { useSectionData } from "./useSectionData";

type Props = {
  objId: string;
  initial: Classification[] | undefined;
  profile: Profile;
  groups: Group[];
};

export function ClassificationsSection({ objId, initial, profile, groups }: Props) {
  const classifications = useSectionData(
    initial,
    () =>
      unwrap(
        api.GET("/api/sources/{obj_id}/classifications", { params: { path: { obj_id: objId } } }),
      ),
    [],
  );
  const taxonomies = useApi(() => unwrap(api.GET("/api/taxonomy")), []);
  const taxonomyName = (taxonomyId: number | undefined) => {
    const taxonomy: Taxonomy | undefined = taxonomies.value?.find((t) => t.id === taxonomyId);
    return taxonomy
      ? `${taxonomy.name} ${taxonomy.version ?? ""}`.trim()
      : `taxonomy ${taxonomyId ?? "?"}`;
  };
  const sorted = [...classifications.value].sort((a, b) =>
    (b.created_at ?? "").localeCompare(a.created_at ?? ""),
  );
  const canClassify = mayDo(profile, "Classify");

  return (
    <section className="card source-classifications" aria-labelledby="source-classifications-title">
      <h2 id="source-classifications-title">Classifications</h2>
      {sorted.length === 0 ? (
        <p className="muted">Not classified yet.</p>
      ) : (
        <div className="table-wrap">
          <table>
            <thead>
              <tr>
                <th scope="col">Class</th>
                <th scope="col">Probability</th>
                <th scope="col">Taxonomy</th>
                <th scope="col">By</th>
                <th scope="col">Groups</th>
                <th scope="col">When</th>
                <th scope="col">
                  <span className="visually-hidden">Actions</span>
                </th>
              </tr>
            </thead>
            <tbody>
              {sorted.map((classification) => (
                <tr key={classification.id}>
                  <td>
                    <strong>{classification.classification}</strong>
                    {classification.ml && <span className="badge"> ML</span>}
                  </td>
                  <td className="mono">{classification.probability?.toFixed(2) ?? "—"}</td>
                  <td>{taxonomyName(classification.taxonomy_id)}</td>
                  <td>{classification.author_name ?? "—"}</td>
                  <td>{(classification.groups ?? []).map((g) => g.name).join(", ") || "—"}</td>
                  <td className="nowrap">
                    <time
                      dateTime={classification.created_at}
                      title={formatUtc(classification.created_at)}
                    >
                      {timeAgo(classification.created_at)}
                    </time>
                  </td>
                  <td className="actions">
                    {canClassify && isOwn(profile, classification.author_id) && (
                      <ConfirmButton
                        label={`Delete classification ${classification.classification}`}
                        onConfirm={async () => {
                          await unwrap(
                            api.DELETE("/api/classification/{classification_id}", {
                              params: { path: { classification_id: classification.id as number } },
                            }),
                          );
                          await classifications.reload();
                        }}
                      />
                    )}
                  </td>
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {classifications.error && <Status error={classifications.error} />}
      {taxonomies.error && <Status error={taxonomies.error} />}
      {canClassify ? (
        <ClassificationForm
          objId={objId}
          taxonomies={taxonomies.value}
          groups={groups}
          onAdded={classifications.reload}
        />
      ) : (
        <p className="muted">Classifying needs the “Classify” permission.</p>
      )}
    </section>
  );
}
