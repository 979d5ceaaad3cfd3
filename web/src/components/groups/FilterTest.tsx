// Runs a version of the filter on archived alerts (POST /api/filters/{filter_id}/test): by
// object ids and/or a window of at most a day, and shows what passed and what failed.
import { useEffect, useId, useRef, useState, type FormEvent } from "react";
import { api } from "../../api";
import {
  checkTestWindow,
  jdToIso,
  newestAlertQuery,
  parseObjectIds,
  parseTimeBound,
  readNewestJd,
  readObjectLookup,
  objectLookupQuery,
  readTestReply,
  type FilterDoc,
  type TestReply,
} from "../../lib/filters";
import { ActionStatus } from "./ActionStatus";
import { archiveQuery, replyText } from "./archive";
import { TestResults } from "./TestResults";
import { useAction } from "./useAction";

type Result = TestReply & { fid: string; objects: Map<string, string> };

export function FilterTest({ filter }: { filter: FilterDoc }) {
  const action = useAction();
  const lastDay = useAction();
  // The version to test: the active one unless another was chosen.
  const [chosen, setChosen] = useState<string>();
  const fid = filter.versions.some((version) => version.fid === chosen)
    ? (chosen ?? "")
    : (filter.active_fid ?? "");
  const [objectIds, setObjectIds] = useState("");
  const [start, setStart] = useState("");
  const [end, setEnd] = useState("");
  const [seconds, setSeconds] = useState("30");
  const [formError, setFormError] = useState<string>();
  const [result, setResult] = useState<Result>();
  const [elapsed, setElapsed] = useState(0);
  const running = useRef<AbortController>(null);
  const ids = { version: useId(), objects: useId(), start: useId(), end: useId(), form: useId() };

  useEffect(() => {
    if (!action.busy) return;
    const began = Date.now();
    setElapsed(0);
    const timer = window.setInterval(
      () => setElapsed(Math.round((Date.now() - began) / 1000)),
      1000,
    );
    return () => window.clearInterval(timer);
  }, [action.busy]);

  const startBound = parseTimeBound(start);
  const endBound = parseTimeBound(end);
  const startError = startBound && "error" in startBound ? startBound.error : undefined;
  const endError = endBound && "error" in endBound ? endBound.error : undefined;

  async function run(event: FormEvent) {
    event.preventDefault();
    const objects = parseObjectIds(objectIds);
    const startAt = startBound && !("error" in startBound) ? startBound : undefined;
    const endAt = endBound && !("error" in endBound) ? endBound : undefined;
    const limit = Number(seconds);
    const problem =
      startError ??
      endError ??
      checkTestWindow(objects, startAt, endAt) ??
      (Number.isFinite(limit) && limit > 0 && limit <= 300
        ? undefined
        : "The time limit is 1 to 300 seconds.");
    setFormError(problem);
    if (problem) return;
    const controller = new AbortController();
    running.current = controller;
    const tested = await action.run(async () => {
      const text = await replyText(
        api.POST("/api/filters/{filter_id}/test", {
          params: { path: { filter_id: filter.id } },
          body: {
            filter_version: fid || undefined,
            object_ids: objects.length ? objects : undefined,
            start_date: startAt?.value,
            end_date: endAt?.value,
            max_time_ms: String(Math.round(limit * 1000)),
          },
          parseAs: "text",
          signal: controller.signal,
        }),
      ).catch((failure: unknown) => {
        throw controller.signal.aborted ? new Error("The test was cancelled.") : failure;
      });
      const reply = readTestReply(text);
      return {
        ...reply,
        fid: reply.errors?.fid || fid,
        objects: await lookUpObjects(reply, controller.signal),
      };
    });
    running.current = null;
    if (tested) setResult(tested);
  }

  // A pipeline need not output the object id: the archive knows each candid's object.
  async function lookUpObjects(
    reply: TestReply,
    signal: AbortSignal,
  ): Promise<Map<string, string>> {
    const missing = reply.passes.filter((pass) => !pass.objectId).map((pass) => pass.candid);
    if (missing.length === 0 || !filter.catalog) return new Map();
    try {
      return readObjectLookup(
        await archiveQuery(objectLookupQuery(filter.catalog, missing.slice(0, 1000)), signal),
      );
    } catch {
      return new Map(); // the table then shows the candids alone
    }
  }

  const fillLastDay = () =>
    lastDay.run(
      async () => {
        const jd = readNewestJd(await archiveQuery(newestAlertQuery(filter.catalog)));
        if (jd === undefined) throw new Error(`No alerts in ${filter.catalog} that you can read.`);
        // Rounded up to 1e-5 d (under a second) so that the newest alert is inside, and a hair
        // under a day long, which Kowalski's one-day limit lets through.
        const endJd = Math.ceil(jd * 1e5) / 1e5;
        setStart(String(Math.round((endJd - 0.99999) * 1e5) / 1e5));
        setEnd(String(endJd));
        return jd;
      },
      (jd) =>
        `The newest alert is of ${jdToIso(jd).slice(0, 19).replace("T", " ")} UTC (JD ${jd}).`,
    );

  if (filter.versions.length === 0) {
    return (
      <section aria-labelledby="test" className="card">
        <h2 id="test">Test on past alerts</h2>
        <p className="muted">Save a pipeline first.</p>
      </section>
    );
  }

  return (
    <section aria-labelledby="test" className="card">
      <h2 id="test">Test on past alerts</h2>
      <form className="stack" onSubmit={run} aria-describedby={ids.form} noValidate>
        <div className="toolbar">
          <div className="field">
            <label htmlFor={ids.version}>Version</label>
            <select
              id={ids.version}
              value={fid}
              onChange={(event) => setChosen(event.target.value)}
            >
              {[...filter.versions].reverse().map((version) => (
                <option key={version.fid} value={version.fid}>
                  {version.fid}
                  {version.fid === filter.active_fid ? " (active)" : ""}
                </option>
              ))}
            </select>
          </div>
          <label>
            Time limit (s)
            <input
              type="number"
              min={1}
              max={300}
              step={1}
              inputMode="numeric"
              value={seconds}
              onChange={(event) => setSeconds(event.target.value)}
              className="narrow"
            />
          </label>
        </div>
        <label className="block">
          Object ids
          <textarea
            className="short"
            rows={2}
            value={objectIds}
            placeholder="ZTF20aajcdad, ZTF17aaaaaas"
            spellCheck={false}
            onChange={(event) => setObjectIds(event.target.value)}
            aria-describedby={ids.objects}
          />
          <span className="hint" id={ids.objects}>
            Separated by commas or spaces; up to 1000. All their archived alerts are tested (within
            the window if one is given).
          </span>
        </label>
        <fieldset>
          <legend>Time window</legend>
          <div className="toolbar">
            <label>
              Start
              <input
                value={start}
                onChange={(event) => setStart(event.target.value)}
                placeholder="2020-02-03 12:00"
                aria-invalid={startError ? true : undefined}
                aria-describedby={ids.start}
              />
              {startError && (
                <span className="field-error" id={ids.start}>
                  {startError}
                </span>
              )}
            </label>
            <label>
              End
              <input
                value={end}
                onChange={(event) => setEnd(event.target.value)}
                placeholder="2458883.0"
                aria-invalid={endError ? true : undefined}
                aria-describedby={ids.end}
              />
              {endError && (
                <span className="field-error" id={ids.end}>
                  {endError}
                </span>
              )}
            </label>
            <button
              type="button"
              className="secondary"
              disabled={lastDay.busy}
              onClick={() => void fillLastDay()}
            >
              {lastDay.busy ? "Looking…" : "Last day in the archive"}
            </button>
          </div>
          <p className="hint">
            UTC date and time, or Julian date. Without object ids, at most one day.
          </p>
          <ActionStatus action={lastDay} />
        </fieldset>
        {formError && (
          <p className="field-error" role="alert" id={ids.form}>
            {formError}
          </p>
        )}
        <div className="row">
          <button type="submit" disabled={action.busy}>
            {action.busy ? "Testing…" : "Run test"}
          </button>
          {action.busy && (
            <>
              <span role="status" className="muted">
                <span className="spinner" aria-hidden="true" /> Running version {fid} on the
                archive… {elapsed} s
              </span>
              <button type="button" className="secondary" onClick={() => running.current?.abort()}>
                Cancel test
              </button>
            </>
          )}
        </div>
        <ActionStatus action={action} />
      </form>
      {result && <TestResults result={result} objects={result.objects} />}
    </section>
  );
}
