// The caller's profile: who they are, their API tokens, their preferences.
import { useState } from "react";
import { api, unwrap, messageOf } from "../api";
import { PreferencesForm } from "../components/PreferencesForm";
import { Status } from "../components/Status";
import { TokenForm } from "../components/TokenForm";
import { formatUtc } from "../lib/format";
import type { Preferences } from "../lib/preferences";
import { useProfile, useSession } from "../session";
import { useApi } from "../useApi";

export default function ProfilePage() {
  const profile = useProfile();
  const { refresh } = useSession();
  const tokens = useApi(() => unwrap(api.GET("/api/internal/tokens")), []);
  const groups = useApi(() => unwrap(api.GET("/api/groups")), []);
  const [created, setCreated] = useState<{ name: string; id: string }>();
  const [error, setError] = useState<string>();

  async function create(name: string, acls: string[]) {
    const data = await unwrap(api.POST("/api/internal/tokens", { body: { name, acls } }));
    setCreated({ name, id: data.token_id as string });
    tokens.reload();
  }

  async function revoke(tokenId: string) {
    setError(undefined);
    try {
      await unwrap(
        api.DELETE("/api/internal/tokens/{token_id}", { params: { path: { token_id: tokenId } } }),
      );
      if (created?.id === tokenId) setCreated(undefined);
      tokens.reload();
    } catch (failure) {
      setError(messageOf(failure));
    }
  }

  return (
    <>
      <h1>Profile</h1>
      <section className="card" aria-labelledby="who">
        <h2 id="who">{profile.username}</h2>
        <dl className="facts">
          <dt>Roles</dt>
          <dd>{(profile.roles ?? []).join(", ") || "—"}</dd>
          <dt>Groups</dt>
          <dd>
            {(groups.value?.user_groups ?? [])
              .filter((group) => !group.single_user_group)
              .map((group) => group.name)
              .join(", ") || "—"}
          </dd>
          <dt>ACLs</dt>
          <dd>{(profile.acls ?? []).join(", ") || "—"}</dd>
          <dt>Member since</dt>
          <dd>{formatUtc(profile.created_at)}</dd>
        </dl>
      </section>

      <section aria-labelledby="tokens">
        <h2 id="tokens">API tokens</h2>
        <p className="muted">
          Scripts send a token as <code className="mono">Authorization: token &lt;id&gt;</code>. A
          token acts as you, limited to its ACLs.
        </p>
        {created && (
          <p className="status ok" role="status">
            Token “{created.name}” created: <code className="mono new-token">{created.id}</code>
          </p>
        )}
        <Status
          loading={tokens.loading && !tokens.value}
          error={tokens.error ?? (error ? new Error(error) : undefined)}
        />
        {tokens.value && (
          <div className="table-wrap">
            <table aria-label="My tokens">
              <thead>
                <tr>
                  <th scope="col">Name</th>
                  <th scope="col">Token</th>
                  <th scope="col">ACLs</th>
                  <th scope="col">Created</th>
                  <th scope="col">
                    <span className="visually-hidden">Actions</span>
                  </th>
                </tr>
              </thead>
              <tbody>
                {tokens.value.map((token) => (
                  <tr key={token.id}>
                    <td>{token.name}</td>
                    <td className="mono">{token.id}</td>
                    <td>{(token.acls ?? []).join(", ") || "read only"}</td>
                    <td>{formatUtc(token.created_at)}</td>
                    <td>
                      <button
                        type="button"
                        className="danger"
                        onClick={() => revoke(token.id as string)}
                        aria-label={`Revoke token ${token.name}`}
                      >
                        Revoke
                      </button>
                    </td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
        )}
        <TokenForm acls={profile.acls ?? []} onCreate={create} />
      </section>
      <PreferencesForm
        preferences={profile.preferences as Preferences | undefined}
        onSaved={refresh}
      />
    </>
  );
}
