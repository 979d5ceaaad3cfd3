// Annotations grouped by their origin (a filter's auto-annotation, a user's, a bot's).
import type { Annotation } from "../api";
import { formatValue } from "../lib/format";

export function Annotations({ annotations }: { annotations: Annotation[] }) {
  if (annotations.length === 0) return <p className="muted">No annotations.</p>;
  return (
    <div className="annotations">
      {annotations.map((annotation) => (
        <table key={annotation.id} className="annotation">
          <caption>{annotation.origin}</caption>
          <tbody>
            {Object.entries(annotation.data ?? {}).map(([key, value]) => (
              <tr key={key}>
                <th scope="row">{key}</th>
                <td className="mono">{formatValue(value)}</td>
              </tr>
            ))}
          </tbody>
        </table>
      ))}
    </div>
  );
}
