// Creating an API token with a name and a chosen subset of the caller's ACLs.
import { messageOf } from "../api";
import { useState, type FormEvent } from "react";

type Props = { acls: string[]; onCreate: (name: string, acls: string[]) => Promise<void> };

export function TokenForm({ acls, onCreate }: Props) {
  const [name, setName] = useState("");
  const [chosen, setChosen] = useState<string[]>([]);
  const [error, setError] = useState<string>();
  const [busy, setBusy] = useState(false);

  async function submit(event: FormEvent) {
    event.preventDefault();
    if (!name.trim()) {
      setError("Give the token a name.");
      return;
    }
    setBusy(true);
    setError(undefined);
    try {
      await onCreate(name.trim(), chosen);
      setName("");
      setChosen([]);
    } catch (failure) {
      setError(messageOf(failure));
    } finally {
      setBusy(false);
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="new-token">
      <h3 id="new-token">New token</h3>
      <label>
        Token name
        <input value={name} onChange={(event) => setName(event.target.value)} />
      </label>
      <fieldset>
        <legend>ACLs (none: the token can only read)</legend>
        <div className="row">
          {acls.map((acl) => (
            <label className="inline" key={acl}>
              <input
                type="checkbox"
                checked={chosen.includes(acl)}
                onChange={(event) =>
                  setChosen((list) =>
                    event.target.checked ? [...list, acl] : list.filter((a) => a !== acl),
                  )
                }
              />
              {acl}
            </label>
          ))}
        </div>
      </fieldset>
      {error && (
        <p className="field-error" role="alert">
          {error}
        </p>
      )}
      <button type="submit" disabled={busy}>
        {busy ? "Creating…" : "Create token"}
      </button>
    </form>
  );
}
