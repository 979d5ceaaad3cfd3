// An interactive plotly.js plot. plotly.js (the bundle's largest part) loads on first use, and a
// plot is drawn only once it scrolls into view: a page of 25 candidates draws the two or three
// on screen first instead of blocking the page while it draws all 25.
import { useEffect, useRef, useState } from "react";
import type { Config, Layout, Trace } from "plotly.js-basic-dist-min";

type Props = { data: Trace[]; layout: Layout; label: string; className?: string };

const CONFIG: Config = {
  responsive: true,
  displaylogo: false,
  modeBarButtonsToRemove: ["lasso2d", "select2d"],
};

const plotly = () => import("plotly.js-basic-dist-min").then((module) => module.default);

/** Whether the element has been on screen (stays true once it has). */
function useSeen(element: React.RefObject<HTMLElement | null>): boolean {
  const [seen, setSeen] = useState(false);
  useEffect(() => {
    const target = element.current;
    if (!target || seen) return;
    if (typeof IntersectionObserver === "undefined") {
      setSeen(true);
      return;
    }
    const observer = new IntersectionObserver(
      (entries) => entries.some((entry) => entry.isIntersecting) && setSeen(true),
      { rootMargin: "200px" },
    );
    observer.observe(target);
    return () => observer.disconnect();
  }, [element, seen]);
  return seen;
}

export function Plot({ data, layout, label, className }: Props) {
  const root = useRef<HTMLDivElement>(null);
  const seen = useSeen(root);
  const [error, setError] = useState<string>();

  useEffect(() => {
    const element = root.current;
    if (!seen || !element) return;
    let cancelled = false;
    plotly().then(
      (Plotly) => {
        if (!cancelled) void Plotly.react(element, data, layout, CONFIG);
      },
      (failure: unknown) => setError(String(failure)),
    );
    return () => {
      cancelled = true;
    };
  }, [seen, data, layout]);

  useEffect(() => {
    const element = root.current;
    return () => {
      if (element) void plotly().then((Plotly) => Plotly.purge(element));
    };
  }, []);

  return (
    <figure className={`plot ${className ?? ""}`}>
      <div ref={root} className="plot-area" role="img" aria-label={label} />
      {error && <p className="status error">{error}</p>}
    </figure>
  );
}
