// What a test run found: the passing alerts (candid, object, annotations, other output) and
// the alerts on which the version failed at run time.
import { useState } from "react";
import type { TestReply } from "../../lib/filters";
import { formatValue } from "../../lib/format";

const PAGE = 100;

export function TestResults({
  result,
  objects,
}: {
  result: TestReply & { fid: string };
  objects: Map<string, string>;
}) {
  const [shown, setShown] = useState(PAGE);
  const { passes, errors } = result;
  const evaluated = errors?.alerts_evaluated;
  const hasOther = passes.some((pass) => Object.keys(pass.other).length > 0);

  return (
    <section className="test-results" aria-labelledby="test-results">
      <h3 id="test-results">Results</h3>
      <p role="status">
        <strong>
          {passes.length} alert{passes.length === 1 ? "" : "s"} passed
        </strong>
        {evaluated !== undefined && ` of ${evaluated} evaluated`} (version{" "}
        <span className="mono">{result.fid}</span>)
        {errors && errors.count > 0 ? `; it failed on ${errors.count}.` : "."}
      </p>
      {errors && errors.count > 0 && (
        <div className="test-errors">
          <h4>
            The version failed on {errors.count} alert{errors.count === 1 ? "" : "s"}
          </h4>
          <p className="hint">
            Each failure excludes that alert only; the live filter behaves the same way.
          </p>
          <div className="table-wrap">
            <table>
              <caption className="visually-hidden">Failures</caption>
              <thead>
                <tr>
                  <th scope="col">Candid</th>
                  <th scope="col">Error</th>
                </tr>
              </thead>
              <tbody>
                {errors.examples.map((example) => (
                  <tr key={example.candid}>
                    <td className="mono">{example.candid}</td>
                    <td>{example.message}</td>
                  </tr>
                ))}
              </tbody>
            </table>
          </div>
          {errors.examples.length < errors.count && (
            <p className="hint">
              {errors.examples.length} of {errors.count} shown.
            </p>
          )}
        </div>
      )}
      {passes.length > 0 && (
        <div className="table-wrap">
          <table className="passes-table">
            <caption className="visually-hidden">Passing alerts</caption>
            <thead>
              <tr>
                <th scope="col">Object and candid</th>
                <th scope="col">Annotations</th>
                {hasOther && <th scope="col">Other output</th>}
              </tr>
            </thead>
            <tbody>
              {passes.slice(0, shown).map((pass) => (
                <tr key={pass.candid}>
                  <td className="mono">
                    <span className="object-id">
                      {pass.objectId ?? objects.get(pass.candid) ?? "—"}
                    </span>
                    <br />
                    <span className="muted">{pass.candid}</span>
                  </td>
                  <td>
                    {pass.annotations && Object.keys(pass.annotations).length > 0 ? (
                      <dl className="annotation-list">
                        {Object.entries(pass.annotations).map(([key, value]) => (
                          <div key={key}>
                            <dt>{key}</dt>
                            <dd className="mono">{formatValue(value)}</dd>
                          </div>
                        ))}
                      </dl>
                    ) : (
                      <span className="muted">none</span>
                    )}
                  </td>
                  {hasOther && (
                    <td className="mono">
                      {Object.keys(pass.other).length ? JSON.stringify(pass.other) : ""}
                    </td>
                  )}
                </tr>
              ))}
            </tbody>
          </table>
        </div>
      )}
      {passes.length > shown && (
        <button type="button" className="secondary" onClick={() => setShown(shown + PAGE)}>
          Show {Math.min(PAGE, passes.length - shown)} more of {passes.length - shown}
        </button>
      )}
    </section>
  );
}
