// The caller's preferences: dashboard list sizes and the scanning page size.
import { useState, type FormEvent } from "react";
import { api, unwrap, messageOf } from "../api";
import {
  checkNumber,
  NUMBER_PREFERENCES,
  preferencesPatch,
  readNumber,
  type NumberPreference,
  type Preferences,
} from "../lib/preferences";

type Props = { preferences: Preferences | undefined; onSaved: () => Promise<void> };

export function PreferencesForm({ preferences, onSaved }: Props) {
  const [texts, setTexts] = useState(
    () => new Map(NUMBER_PREFERENCES.map((p) => [p, String(readNumber(preferences, p))])),
  );
  const [state, setState] = useState<{ busy?: boolean; error?: string; saved?: boolean }>({});

  async function submit(event: FormEvent) {
    event.preventDefault();
    const problems = NUMBER_PREFERENCES.map((p) => checkNumber(texts.get(p) ?? "", p)).filter(
      Boolean,
    );
    if (problems.length) {
      setState({ error: problems.join(" ") });
      return;
    }
    setState({ busy: true });
    try {
      const values = new Map<NumberPreference, number>(
        NUMBER_PREFERENCES.map((p) => [p, Number(texts.get(p))]),
      );
      await unwrap(
        api.PATCH("/api/internal/profile", { body: { preferences: preferencesPatch(values) } }),
      );
      await onSaved();
      setState({ saved: true });
    } catch (failure) {
      setState({ error: messageOf(failure) });
    }
  }

  return (
    <form className="card" onSubmit={submit} aria-labelledby="preferences-title">
      <h2 id="preferences-title">Preferences</h2>
      <div className="toolbar">
        {NUMBER_PREFERENCES.map((preference) => (
          <label key={preference.path.join(".")}>
            {preference.label}
            <input
              type="number"
              min={preference.min}
              max={preference.max}
              value={texts.get(preference) ?? ""}
              onChange={(event) => {
                setTexts(new Map(texts).set(preference, event.target.value));
                setState({});
              }}
            />
          </label>
        ))}
      </div>
      {state.error && (
        <p className="field-error" role="alert">
          {state.error}
        </p>
      )}
      {state.saved && (
        <p className="status ok" role="status">
          Preferences saved.
        </p>
      )}
      <button type="submit" disabled={state.busy}>
        {state.busy ? "Saving…" : "Save preferences"}
      </button>
    </form>
  );
}
