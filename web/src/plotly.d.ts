// plotly.js's basic bundle ships without types; the few calls made here are typed by hand.
declare module "plotly.js-basic-dist-min" {
  export type Datum = number | string | null;
  export type Trace = Record<string, unknown> & { x?: Datum[]; y?: Datum[]; name?: string };
  export type Layout = Record<string, unknown>;
  export type Config = Record<string, unknown>;
  export function react(
    root: HTMLElement,
    data: Trace[],
    layout?: Layout,
    config?: Config,
  ): Promise<void>;
  export function purge(root: HTMLElement): void;
  const Plotly: { react: typeof react; purge: typeof purge };
  export default Plotly;
}
