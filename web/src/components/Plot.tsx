// An interactive plotly.js plot (loaded on first use: it is the bundle's largest part).
import { useEffect, useRef, useState } from "react";
import type { Config, Layout, Trace } from "plotly.js-basic-dist-min";

type Props = { data: Trace[]; layout: Layout; label: string; className?: string };

const CONFIG: Config = { responsive: true, displaylogo: false, modeBarButtonsToRemove: ["lasso2d", "select2d"] };

export function Plot({ data, layout, label, className }: Props) {
  const root = useRef<HTMLDivElement>(null);
  const [error, setError] = useState<string>();

  useEffect(() => {
    let cancelled = false;
    const element = root.current;
    import("plotly.js-basic-dist-min").then(
      ({ default: Plotly }) => {
        if (!cancelled && element) void Plotly.react(element, data, layout, CONFIG);
      },
      (failure: unknown) => setError(String(failure)),
    );
    return () => {
      cancelled = true;
    };
  }, [data, layout]);

  useEffect(() => {
    const element = root.current;
    return () => {
      if (element) void import("plotly.js-basic-dist-min").then(({ default: Plotly }) => Plotly.purge(element));
    };
  }, []);

  return (
    <figure className={`plot ${className ?? ""}`} aria-label={label}>
      <div ref={root} className="plot-area" role="img" aria-label={label} />
      {error && <p className="status error">{error}</p>}
    </figure>
  );
}
