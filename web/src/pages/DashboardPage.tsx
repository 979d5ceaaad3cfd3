// The dashboard: what the caller's groups saved lately, what people look at, and the news.
import { Link } from "react-router-dom";
import { api, unwrap } from "../api";
import { SourceTile } from "../components/dashboard/SourceTile";
import { Status } from "../components/Status";
import { formatUtc, timeAgo } from "../lib/format";
import { useProfile } from "../session";
import { useApi } from "../useApi";

const KIND_LABELS: Record<string, string> = {
  comment: "Comment",
  classification: "Classification",
  source: "Saved",
};

export default function DashboardPage() {
  const profile = useProfile();
  const recent = useApi(() => unwrap(api.GET("/api/internal/recent_sources")), []);
  const viewed = useApi(() => unwrap(api.GET("/api/internal/source_views")), []);
  const news = useApi(() => unwrap(api.GET("/api/newsfeed")), []);

  return (
    <>
      <h1>Welcome, {profile.username}</h1>
      <p>
        <Link to="/candidates">Scan the latest candidates</Link> ·{" "}
        <Link to="/sources">Browse saved sources</Link>
      </p>
      <div className="dashboard">
        <section className="card" aria-labelledby="recent-title">
          <h2 id="recent-title">Recently saved</h2>
          <Status loading={recent.loading && !recent.value} error={recent.error} />
          {recent.value?.length === 0 && <p className="muted">Nothing saved to your groups yet.</p>}
          <ul className="tiles">
            {recent.value?.map((source) => (
              <SourceTile
                key={`${source.obj_id}-${source.created_at}`}
                objId={source.obj_id as string}
                ra={source.ra}
                dec={source.dec}
                thumbnails={source.thumbnails}
                classifications={source.classifications}
              >
                {source.resaved ? "saved again" : "saved"}{" "}
                <time dateTime={source.created_at} title={formatUtc(source.created_at)}>
                  {timeAgo(source.created_at)}
                </time>
              </SourceTile>
            ))}
          </ul>
        </section>
        <section className="card" aria-labelledby="viewed-title">
          <h2 id="viewed-title">Most viewed</h2>
          <Status loading={viewed.loading && !viewed.value} error={viewed.error} />
          {viewed.value?.length === 0 && <p className="muted">No source pages opened this week.</p>}
          <ul className="tiles">
            {viewed.value?.map((source) => (
              <SourceTile
                key={source.obj_id}
                objId={source.obj_id as string}
                ra={source.ra}
                dec={source.dec}
                thumbnails={source.thumbnails}
                classifications={source.classifications}
              >
                {source.views} view{source.views === 1 ? "" : "s"}
              </SourceTile>
            ))}
          </ul>
        </section>
        <section className="card" aria-labelledby="news-title">
          <h2 id="news-title">News feed</h2>
          <Status loading={news.loading && !news.value} error={news.error} />
          {news.value?.length === 0 && <p className="muted">No news in your groups.</p>}
          <ul className="newsfeed">
            {news.value?.map((item, index) => (
              <li key={`${item.type}-${item.time}-${index}`}>
                <span className="badge">{KIND_LABELS[item.type ?? ""] ?? item.type}</span>{" "}
                <Link to={`/source/${encodeURIComponent(item.source_id ?? "")}`} className="mono">
                  {item.source_id}
                </Link>
                : {item.message}
                <div className="muted small">
                  {item.author_info?.username ?? item.author ?? ""}{" "}
                  <time dateTime={item.time} title={formatUtc(item.time)}>
                    {timeAgo(item.time)}
                  </time>
                </div>
              </li>
            ))}
          </ul>
        </section>
      </div>
    </>
  );
}
