// The source page (/source/:objId): everything known about one object, and what to do with it.
import { useParams } from "react-router-dom";
import { api, unwrap } from "../api";
import { Annotations } from "../components/Annotations";
import { CandidateHistory } from "../components/source/CandidateHistory";
import { ClassificationsSection } from "../components/source/ClassificationsSection";
import { CommentsSection } from "../components/source/CommentsSection";
import { FollowupSection } from "../components/source/FollowupSection";
import { GroupsSection } from "../components/source/GroupsSection";
import { loadObject } from "../components/source/loadObject";
import { PhotometrySection } from "../components/source/PhotometrySection";
import { SourceHeader } from "../components/source/SourceHeader";
import { SpectraSection } from "../components/source/SpectraSection";
import { Status } from "../components/Status";
import { Thumbnails } from "../components/Thumbnails";
import { useProfile } from "../session";
import { useApi } from "../useApi";

export default function SourcePage() {
  const { objId = "" } = useParams();
  const profile = useProfile();
  const loaded = useApi(() => loadObject(objId), [objId]);
  const groups = useApi(() => unwrap(api.GET("/api/groups")), []);
  const instruments = useApi(() => unwrap(api.GET("/api/instrument")), []);

  if (!loaded.value || loaded.value.asked !== objId) {
    return <Status loading={loaded.loading} error={loaded.error} />;
  }
  const { obj, via } = loaded.value;
  const myGroups = groups.value?.user_groups ?? [];

  return (
    // Keyed by the object: a new object starts every section afresh.
    <article className="source-page" key={objId}>
      <SourceHeader obj={obj} via={via} />
      <div className="source-sections">
        <GroupsSection
          objId={objId}
          initial={obj.groups ?? obj.saved_groups}
          groups={groups.value}
          groupsError={groups.error}
          profile={profile}
        />
        <section className="card source-cutouts" aria-labelledby="source-cutouts-title">
          <h2 id="source-cutouts-title">Cutouts</h2>
          <Thumbnails thumbnails={obj.thumbnails ?? []} objId={objId} />
        </section>
        <PhotometrySection objId={objId} photometry={obj.photometry ?? []} />
        <SpectraSection objId={objId} profile={profile} instruments={instruments.value} />
        <section className="card source-annotations" aria-labelledby="source-annotations-title">
          <h2 id="source-annotations-title">Annotations</h2>
          <Annotations annotations={obj.annotations ?? []} />
        </section>
        <CommentsSection objId={objId} initial={obj.comments} profile={profile} groups={myGroups} />
        <ClassificationsSection
          objId={objId}
          initial={obj.classifications}
          profile={profile}
          groups={myGroups}
        />
        <CandidateHistory objId={objId} groups={groups.value?.all_groups ?? myGroups} />
        <FollowupSection
          objId={objId}
          initial={via === "sources" ? obj.followup_requests : undefined}
          profile={profile}
          instruments={instruments.value}
        />
      </div>
    </article>
  );
}
