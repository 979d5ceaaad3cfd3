import { formatDec, formatDegrees, formatRa } from "../lib/format";

type Angle = number | null | undefined;
type Props = { ra: Angle; dec: Angle; galLon?: Angle; galLat?: Angle };

/** RA/Dec in sexagesimal and degrees, and Galactic l/b. */
export function Coordinates({ ra, dec, galLon, galLat }: Props) {
  if (ra === undefined || ra === null || dec === undefined || dec === null)
    return <span className="muted">no position</span>;
  return (
    <dl className="coordinates">
      <div>
        <dt>RA, Dec</dt>
        <dd>
          <span className="mono">
            {formatRa(ra)} {formatDec(dec)}
          </span>{" "}
          <span className="muted mono">
            ({formatDegrees(ra)}, {formatDegrees(dec)})
          </span>
        </dd>
      </div>
      <div>
        <dt>l, b</dt>
        <dd className="mono">
          {formatDegrees(galLon)}, {formatDegrees(galLat)}
        </dd>
      </div>
    </dl>
  );
}
